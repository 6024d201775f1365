"""Slot: free slots only, computed by the booking engine (`free_slots`, `resolve_slot`); a
slot's id names its service, doctor and start (`scheduling.fhir.ids`)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from portal.api.access import public
from portal.api.exceptions import Problem
from scheduling.errors import BookingError, InvalidInput
from scheduling.fhir import resources as r
from scheduling.fhir.ids import parse_fhir_slot_id
from scheduling.fhir.views.base import FhirView, bad_param, not_found, reference_id
from scheduling.fhir.views.catalogue import active_services
from scheduling.fhir.views.date_params import local_date_bounds, parse_date_params, within
from scheduling.fhir.views.schedules import schedule_pair
from scheduling.models import Doctor, Service
from scheduling.selectors.availability import MAX_RANGE_DAYS, free_slots, resolve_slot


def service_from_token(token: str) -> Service:
    """A `service-type` token (`system|code` or a bare code or public id) → its service."""
    code = token.split("|")[-1].strip()
    service = active_services().filter(code=code).first()
    if service is None:
        try:
            service = active_services().filter(public_id=uuid.UUID(code)).first()
        except ValueError:
            service = None
    if service is None:
        raise not_found(_("The service type"))
    return service


def searched_services(params, doctor: Doctor | None) -> list[Service]:
    if params.get("service-type"):
        return [service_from_token(params["service-type"])]
    if doctor is not None:
        return list(doctor.services.filter(is_active=True).select_related("specialty"))
    raise bad_param("service-type", _("Search slots by service-type, schedule, or both."))


def slot_from_id(resource_id: str):
    """The service, doctor and start a Slot id names, or 404."""
    try:
        ref = parse_fhir_slot_id(resource_id)
    except InvalidInput as exc:
        raise not_found(_("The slot")) from exc
    service = active_services().filter(public_id=ref.service_public_id).first()
    doctor = Doctor.objects.filter(is_active=True, public_id=ref.doctor_public_id).first()
    if service is None or doctor is None:
        raise not_found(_("The slot"))
    return service, doctor, ref.start


@public
class SlotSearchView(FhirView):
    """Free slots: `schedule`, `service-type`, `start=ge..&start=lt..`, `status=free`."""

    def get(self, request):
        params = request.query_params
        if params.get("status", "free").split("|")[-1] != "free":
            # Only free slots are published; busy time is not anyone's business.
            return self.searchset(request, [])
        doctor = clinic = None
        if params.get("schedule"):
            doctor, clinic = schedule_pair(reference_id(params["schedule"], "Schedule"))
        services = searched_services(params, doctor)
        lower, upper = parse_date_params(params.getlist("start"), "start")
        first, last = local_date_bounds(lower, upper)
        if last < first:
            return self.searchset(request, [])
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise bad_param(
                "start",
                _("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS - 2},
            )
        items = [
            r.slot(item, service=service, clinic_tz=item.start.tzinfo)
            for service in services
            for item in free_slots(
                service=service, doctor=doctor, clinic=clinic, start_date=first, end_date=last
            )
            if within(item.start, lower, upper)
        ]
        items.sort(key=lambda x: x["start"])
        return self.searchset(request, items)


@public
class SlotReadView(FhirView):
    """A slot by id while it is free; a taken or past one is no longer published (404)."""

    def get(self, request, resource_id):
        service, doctor, start = slot_from_id(resource_id)
        try:
            item = resolve_slot(service=service, doctor=doctor, start=start)
        except BookingError as exc:
            # Every refusal means the same to a reader: not a free slot any more.
            raise Problem(status_code=404, detail=_("This slot is no longer free.")) from exc
        return Response(r.slot(item, service=service, clinic_tz=item.start.tzinfo))
