"""Appointment: search and read the visits the caller may see; POST books a free Slot through
the booking engine, as the REST API does."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as PydanticValidationError
from rest_framework import status
from rest_framework.response import Response

from portal.api.exceptions import Problem
from portal.api.idempotency import idempotent
from scheduling.api.appointments import appointment_for_action
from scheduling.choices import AppointmentStatus
from scheduling.fhir import resources as r
from scheduling.fhir.views.base import FhirView, bad_param, reference_id
from scheduling.fhir.views.date_params import parse_date_params, utc_superset, within
from scheduling.fhir.views.slots import slot_from_id
from scheduling.permissions import (
    bookable_clinic_ids,
    channel_for,
    patient_for_booking,
    require_booker,
)
from scheduling.selectors import appointments as selectors
from scheduling.services import booking


def statuses_for(fhir_status: str) -> list[str]:
    """Our appointment statuses that FHIR calls `fhir_status`."""
    return [ours for ours, theirs in r.APPOINTMENT_STATUS.items() if theirs == fhir_status]


def booking_request(body):
    """The slot (service, doctor, start) and the patient reference (or None) that an
    Appointment resource asks to book; 400 unless it is valid FHIR naming exactly one Slot."""
    # Imported on the first booking: the FHIR models take about 0.2 s to load.
    from fhir.resources.R4B.appointment import Appointment as FhirAppointment

    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise bad_param("resourceType", _("Send an Appointment resource."))
    try:
        FhirAppointment.model_validate(body)
    except (PydanticValidationError, ValueError, TypeError) as exc:
        raise bad_param("Appointment", _("The Appointment resource is not valid FHIR R4.")) from exc
    slots = body.get("slot") or []
    if len(slots) != 1 or not isinstance(slots[0], dict):
        raise bad_param("slot", _("Name exactly one Slot to book."))
    service, doctor, start = slot_from_id(reference_id(slots[0].get("reference", ""), "Slot"))
    patient_ref = None
    for participant in body.get("participant") or []:
        reference = ((participant or {}).get("actor") or {}).get("reference", "")
        if "Patient/" in reference:
            patient_ref = reference_id(reference, "Patient")
    return (service, doctor, start), patient_ref


class AppointmentSearchCreateView(FhirView):
    """Search visits the caller may see; POST books a free Slot through the engine."""

    max_results = 200

    def get(self, request):
        qs = selectors.appointments_visible_to(request.user).order_by("-starts_at")
        wanted = request.query_params.get("status")
        if wanted:
            qs = qs.filter(status__in=statuses_for(wanted.split("|")[-1]))
        lower, upper = parse_date_params(request.query_params.getlist("date"), "date")
        items = []
        # The database narrows to the bounds widened by a day (dates are each clinic's own);
        # the exact test is in the clinic's zone.
        for a in qs.filter(utc_superset(lower, upper)).iterator(chunk_size=self.max_results):
            if within(a.starts_at.astimezone(a.clinic.tz), lower, upper):
                items.append(r.appointment(a))
                if len(items) == self.max_results:
                    break
        return self.searchset(request, items)

    @idempotent
    def post(self, request):
        require_booker(request.user)
        (service, doctor, start), patient_ref = booking_request(request.data)
        appointment = booking.appointment_book(
            patient=patient_for_booking(request.user, patient_ref),
            doctor=doctor,
            service=service,
            start=start,
            channel=channel_for(request.user, None),
            actor=request.user,
            bookable_clinic_ids=bookable_clinic_ids(request.user),
        )
        appointment = selectors.appointments_all().get(pk=appointment.pk)
        response = Response(r.appointment(appointment), status=status.HTTP_201_CREATED)
        response["Location"] = f"{r.base_url()}/Appointment/{appointment.public_id}"
        return response


class AppointmentReadView(FhirView):
    """Read a visit; PUT with `status: cancelled` cancels it (the only update offered: a move
    is a new Appointment on a new Slot, as FHIR clients book it)."""

    def get(self, request, resource_id):
        appointment = selectors.get_appointment_for_user(request.user, resource_id)
        return Response(r.appointment(appointment))

    @idempotent
    def put(self, request, resource_id):
        appointment = appointment_for_action(
            request.user, resource_id, capability="appointment.manage", patient_may=True
        )
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
            raise bad_param("resourceType", _("Send an Appointment resource."))
        if body.get("id") not in (None, resource_id):
            raise bad_param("id", _("The resource id does not match the address."))
        if body.get("status") != "cancelled":
            raise Problem(
                status_code=422,
                detail=_("Only cancelling is supported: send the status cancelled."),
            )
        if appointment.status != AppointmentStatus.CANCELLED:
            reason = str((body.get("cancelationReason") or {}).get("text") or "")[:200]
            booking.appointment_cancel(appointment=appointment, actor=request.user, reason=reason)
        appointment = selectors.appointments_all().get(pk=appointment.pk)
        return Response(r.appointment(appointment))
