"""My visits: the patient's and their dependants' visits, one visit's page, cancel,
reschedule with the week picker, and the visit as an .ics file."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from portal.formatting import when_label
from portal.types import HtmxRequest
from scheduling.choices import BookingMode
from scheduling.errors import BookingError, InvalidInput
from scheduling.models import Doctor
from scheduling.selectors import booking_pages as pages
from scheduling.selectors.booking_requests import patient_requests
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.connector_slots import external_booking_of
from scheduling.selectors.documents import KINDS, document_kinds, patient_visible_summary
from scheduling.selectors.ics import appointment_ics
from scheduling.selectors.policy import policy_for
from scheduling.selectors.visits import (
    get_visit_for_patient,
    patient_visits,
    patient_waitlist,
    visit_view,
)
from scheduling.services.booking import appointment_reschedule
from scheduling.services.booking.guards import MAX_REASON_LENGTH
from scheduling.services.connectors import connector_cancel
from scheduling.services.payments import prepayments_release_expired
from scheduling.slot_ids import parse_slot_id
from scheduling.views import move_external
from scheduling.views.dates import asked_day

SHOWN_PAST = 10  # past visits listed before "show all"


def _patient_required(request: HttpRequest) -> HttpResponse | None:
    if permissions.is_patient(request.user):
        return None
    messages.info(request, _("Visits appear here once your patient profile is ready."))
    return redirect("portal:home")


@login_required
def visits(request: HttpRequest) -> HttpResponse:
    refused = _patient_required(request)
    if refused is not None:
        return refused
    # Bookings left unpaid are released on sight too, not only by the periodic task.
    prepayments_release_expired(patients=permissions.patients_managed_by(request.user))
    upcoming, past = patient_visits(user=request.user)
    show_all = request.GET.get("past") == "all"
    return render(
        request,
        "scheduling/visits.html",
        {
            "upcoming": upcoming,
            "past": past if show_all else past[:SHOWN_PAST],
            "past_hidden": 0 if show_all else max(0, len(past) - SHOWN_PAST),
            "waiting": patient_waitlist(request.user),
            "requests": list(patient_requests(request.user)),
        },
    )


@login_required
def visit(request: HttpRequest, public_id: object) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    if prepayments_release_expired(patients=[appointment.patient]):
        appointment = get_visit_for_patient(request.user, public_id)
    return render(
        request,
        "scheduling/visit.html",
        {
            "visit": visit_view(appointment),
            "max_reason": MAX_REASON_LENGTH,
            "documents": [(kind, KINDS[kind]) for kind in document_kinds(appointment)],
            "summary": patient_visible_summary(appointment),
        },
    )


@login_required
@require_POST
def cancel(request: HttpRequest, public_id: object) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    try:
        # A visit booked in a clinic's external system is cancelled there first.
        connector_cancel(
            appointment=appointment, actor=request.user, reason=request.POST.get("reason", "")
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The visit is cancelled. Its time is free for others now."))
    return redirect("scheduling:visit", appointment.public_id)


@login_required
def reschedule(request: HtmxRequest, public_id: object) -> HttpResponse:
    """The same visit at another free time of the same doctor."""
    appointment = get_visit_for_patient(request.user, public_id)
    if external_booking_of(appointment) is not None:
        # Booked in a clinic's external system: moved there, with that system's times.
        return move_external.patient_move(request, appointment)
    if request.method == "POST":
        try:
            ref = parse_slot_id(request.POST.get("slot", ""))
            if ref.service_public_id != appointment.service.public_id:
                raise InvalidInput(code="invalid_slot_id")
            doctor = get_by_public_id(Doctor.objects.filter(is_active=True), ref.doctor_public_id)
            if request.POST.get("confirm") != "1":
                # A tap on a time asks first: a mis-tap must not give up the booked time.
                clinic = appointment.clinic
                return render(
                    request,
                    "scheduling/reschedule_confirm.html",
                    {
                        "visit": visit_view(appointment),
                        "slot": request.POST["slot"],
                        "new_when": when_label(ref.start, clinic.tz, city=clinic.city),
                        "new_doctor": doctor,
                    },
                )
            appointment_reschedule(
                appointment=appointment, start=ref.start, doctor=doctor, actor=request.user
            )
        except BookingError as exc:
            messages.error(request, str(exc.message))
            return redirect("scheduling:reschedule", appointment.public_id)
        messages.success(request, _("The visit is moved. We have sent the new time."))
        return redirect("scheduling:visit", appointment.public_id)
    view = visit_view(appointment)
    if not view.can_reschedule:
        messages.error(request, view.reschedule_note or _("This visit can no longer be moved."))
        return redirect("scheduling:visit", appointment.public_id)
    if policy_for(appointment.clinic).mode == BookingMode.REQUEST:
        # The clinic shows no free times: it confirms a time asked for in a request.
        return render(request, "scheduling/reschedule.html", {"visit": view, "by_request": True})
    first = asked_day(request, request.GET.get("from"), today=timezone.localdate())
    picker = pages.week_picker(
        service=appointment.service,
        doctor=appointment.doctor,
        clinic=appointment.clinic,
        first=first,
        today=timezone.localdate(),
    )
    context = {"visit": view, "picker": picker, "doctor": appointment.doctor, "moving": appointment}
    template = "scheduling/htmx/week_picker.html" if request.htmx else "scheduling/reschedule.html"
    return render(request, template, context)


@login_required
def visit_ics(request: HttpRequest, public_id: object) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    response = HttpResponse(
        appointment_ics(appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="visit-{appointment.public_id}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
