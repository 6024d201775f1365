"""Moving a visit booked in a connector clinic's external system: the patient's page (a week of
that system's free times of the same doctor) and the desk's (one day). Both post the chosen
time to `connector_reschedule`, which books it there, records it here and releases the old.

The entry points are called by `visits.reschedule` and `desk.reschedule` once they found the
visit and checked access; these never look a visit up themselves.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from scheduling.errors import BookingError, InvalidInput
from scheduling.models import Appointment
from scheduling.selectors.connector_requests import parse_upstream_value
from scheduling.selectors.connector_slots import connector_free_slots, connector_week
from scheduling.selectors.visits import visit_view
from scheduling.services.booking.guards import MAX_REASON_LENGTH
from scheduling.services.connector_moves import connector_reschedule


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


def _move(request: HttpRequest, appointment: Appointment) -> None:
    """The posted time, moved to; `BookingError` for a bad choice or a refusal."""
    picked = parse_upstream_value(request.POST.get("upstream", ""))
    if picked is None or picked[0] != appointment.doctor.public_id:
        raise InvalidInput(_("Choose one of the times shown."), code="invalid_slot_id")
    _doctor, start, external_id = picked
    connector_reschedule(
        appointment=appointment,
        start=start,
        external_id=external_id,
        actor=request.user,
        reason=request.POST.get("reason", ""),
    )


def _post_move(
    request: HttpRequest, appointment: Appointment, *, here: str, done: str, moved: str
) -> HttpResponse:
    """Move to the posted time: the refusal shown back at `here`, else `moved` said on the
    page named `done`."""
    try:
        _move(request, appointment)
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect(here)
    messages.success(request, moved)
    return redirect(done, appointment.public_id)


def _choices(appointment: Appointment, slots, tz) -> list[tuple[datetime.datetime, str]]:
    """The slots as (local start, posted value) for the page's radio buttons."""
    doctor = str(appointment.doctor.public_id)
    return [
        (slot.start.astimezone(tz), "|".join((doctor, slot.start.isoformat(), slot.external_id)))
        for slot in slots
    ]


def patient_move(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """GET: a week of the external system's free times of the visit's doctor; POST: move."""
    here = reverse("scheduling:reschedule", args=[appointment.public_id])
    if request.method == "POST":
        return _post_move(
            request,
            appointment,
            here=here,
            done="scheduling:visit",
            moved=_("The visit is moved. We have sent the new time."),
        )
    view = visit_view(appointment)
    if not view.can_reschedule:
        messages.error(request, view.reschedule_note or _("This visit can no longer be moved."))
        return redirect("scheduling:visit", appointment.public_id)
    clinic = appointment.clinic
    today = timezone.now().astimezone(clinic.tz).date()
    first = max(_date(request.GET.get("from")) or today, today)
    week = connector_week(
        clinic=clinic, service=appointment.service, doctor=appointment.doctor, first=first
    )
    days = [(item.day, _choices(appointment, item.slots, clinic.tz)) for item in week.days]
    step = datetime.timedelta(days=7)
    return render(
        request,
        "scheduling/reschedule_external.html",
        {
            "visit": view,
            "clinic": clinic,
            "days": days,
            "unavailable": week.unavailable,
            "prev_url": f"{here}?{urlencode({'from': (first - step).isoformat()})}"
            if first > today
            else "",
            "next_url": f"{here}?{urlencode({'from': (first + step).isoformat()})}",
        },
    )


def desk_move(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """GET: one day of the external system's free times of the visit's doctor; POST: move."""
    here = reverse("scheduling:desk_reschedule", args=[appointment.public_id])
    if request.method == "POST":
        return _post_move(
            request,
            appointment,
            here=here,
            done="scheduling:desk_appointment",
            moved=_("The visit is moved; the patient is told the new time."),
        )
    clinic = appointment.clinic
    day = _date(request.GET.get("date")) or timezone.now().astimezone(clinic.tz).date()
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=clinic.tz)
    found = connector_free_slots(
        clinic=clinic,
        service=appointment.service,
        doctor=appointment.doctor,
        start=start,
        end=start + datetime.timedelta(days=1),
    )
    return render(
        request,
        "scheduling/desk/reschedule_external.html",
        {
            "appt": appointment,
            "start": appointment.starts_at.astimezone(clinic.tz),
            "clinic": clinic,
            "day": day,
            "prev_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "times": _choices(appointment, found.slots, clinic.tz),
            "unavailable": found.unavailable,
            "max_reason": MAX_REASON_LENGTH,
        },
    )
