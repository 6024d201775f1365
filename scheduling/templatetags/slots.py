"""A free time's "book" button, written out in Python.

The week picker, the earliest times and the doctors' cards show dozens of these; as an
included template each one cost an include, a CSRF tag and a translation block, a good part
of the week picker's time. Here it is one `format_html` (every value escaped) with the same
markup and the same translated label.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag(takes_context=True)
def slot_button(context: Any, choice: Any, action: str, day: str) -> SafeString:
    """A POST form to `action` with the slot of `choice` ("09:30", its id) and the page's CSRF
    token; its button reads the time and is named "Book <day> at <time>"."""
    label = gettext("Book %(day)s at %(time)s") % {"day": day, "time": choice.time}
    token = context.get("csrf_token")
    # As `{% csrf_token %}`: no field where the page has no token.
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED"  # noqa: S105 - Django's marker, not a secret
        else ""
    )
    return format_html(
        '<form method="post" action="{}" class="slot-form">{}\n'
        '  <input type="hidden" name="slot" value="{}">\n'
        '  <button type="submit" class="slot" aria-label="{}">{}</button>\n'
        "</form>",
        action,
        csrf,
        choice.slot_id,
        label,
        choice.time,
    )
