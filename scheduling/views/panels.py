"""The booking engine's panels on the kernel's pages (`portal.panels`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from portal import permissions
from portal.models import Clinic, Patient
from scheduling.selectors.booking_requests import desk_request_clinics, request_queue
from scheduling.selectors.catalogue import public_specialties
from scheduling.selectors.desk import desk_clinics, staff_patient_visits
from scheduling.selectors.visits import patient_visits

SHOWN_VISITS = 3


def book_panel(request: HttpRequest, **_shown: Any) -> dict[str, Any] | None:
    """Specialties to book from, one click from the landing page."""
    specialties = list(public_specialties())
    return {"specialties": specialties} if specialties else None


def my_visits_panel(request: HttpRequest, **_shown: Any) -> dict[str, Any] | None:
    """The patient's next visits and the specialties to book another one."""
    if not permissions.is_patient(request.user):
        return None
    upcoming, _past = patient_visits(user=request.user)
    return {"upcoming": upcoming[:SHOWN_VISITS], "specialties": list(public_specialties())}


def staff_visits_panel(request: HttpRequest, *, patient: Patient) -> dict[str, Any] | None:
    """The patient's upcoming and past visits in the reader's clinics, each linked to the desk,
    and "Book" into the day board of each clinic where the reader books."""
    user = request.user
    if not permissions.has_capability(user, "appointment.view"):
        return None
    upcoming, past = staff_patient_visits(user=user, patient=patient)
    booking = permissions.clinic_ids_with(user, "appointment.book")
    book_clinics = [
        clinic for clinic in desk_clinics(user) if booking is None or clinic.pk in booking
    ]
    return {
        "patient": patient,
        "upcoming": upcoming,
        "past": past,
        "book_clinics": book_clinics,
        "waitlist": permissions.has_capability(user, "appointment.manage"),
    }


def desk_requests_panel(request: HttpRequest, *, clinic: Clinic) -> dict[str, Any] | None:
    """On the day board of a request-mode clinic: how many booking requests wait, how many
    are overdue, and the way to the queue."""
    if clinic not in desk_request_clinics(request.user):
        return None
    rows = request_queue(user=request.user, clinic=clinic, now=timezone.now())
    return {
        "open": sum(1 for row in rows if row.request.status == "open"),
        "overdue": sum(1 for row in rows if row.overdue),
        "url": f"{reverse('scheduling:desk_requests')}?clinic={clinic.public_id}",
    }
