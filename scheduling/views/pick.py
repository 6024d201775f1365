"""The page that asks staff of several clinics which one a workplace should show."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_stubs_ext import StrOrPromise


def clinic_choice_page(
    request: HttpRequest,
    clinics: Any,
    *,
    heading: StrOrPromise,
    lead: StrOrPromise,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The clinics as links that reopen the page with `?clinic=<public id>`."""
    page = {**(context or {}), "clinics": clinics, "heading": heading, "lead": lead}
    return render(request, "scheduling/pick_clinic.html", page)
