"""Documents as PDF: a template rendered to HTML, then laid out by WeasyPrint."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML

# The documents' own stylesheet: a static file, as pages keep no inline styles either.
DOCUMENT_CSS = "css/documents.css"


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """The PDF of `template_name` with `context`, in the active language."""
    html = render_to_string(template_name, context)
    stylesheet = finders.find(DOCUMENT_CSS)
    if not isinstance(stylesheet, str):  # pragma: no cover - the file is in the repository
        raise FileNotFoundError(DOCUMENT_CSS)
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
