"""The booking engine's panels on the kernel's pages (`portal.panels`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal import permissions
from scheduling.selectors.catalogue import public_specialties
from scheduling.selectors.visits import patient_visits

SHOWN_VISITS = 3


def book_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Specialties to book from, one click from the landing page."""
    specialties = list(public_specialties())
    return {"specialties": specialties} if specialties else None


def my_visits_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The patient's next visits and the specialties to book another one."""
    if not permissions.is_patient(request.user):
        return None
    upcoming, _past = patient_visits(user=request.user)
    return {"upcoming": upcoming[:SHOWN_VISITS], "specialties": list(public_specialties())}
