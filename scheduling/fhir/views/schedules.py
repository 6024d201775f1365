"""Schedule: one per doctor and clinic where the doctor works, id `<doctor>.<clinic>`
(`scheduling.fhir.ids`), listing the doctor's active services."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from portal.api.access import public
from portal.models import Clinic
from scheduling.errors import InvalidInput
from scheduling.fhir import resources as r
from scheduling.fhir.ids import parse_schedule_id
from scheduling.fhir.views.base import FhirView, not_found, reference_id, referenced_uuid
from scheduling.models import Doctor, Service


def schedule_doctors():
    return Doctor.objects.filter(is_active=True).prefetch_related(
        Prefetch("clinics", queryset=Clinic.objects.filter(is_active=True)),
        Prefetch("services", queryset=Service.objects.filter(is_active=True)),
    )


def schedule_pair(resource_id: str) -> tuple[Doctor, Clinic]:
    """The doctor and clinic a Schedule id names, or 404."""
    try:
        doctor_id, clinic_id = parse_schedule_id(resource_id)
    except InvalidInput as exc:
        raise not_found(_("The schedule")) from exc
    doctor = schedule_doctors().filter(public_id=doctor_id).first()
    clinic = (
        next((c for c in doctor.clinics.all() if c.public_id == clinic_id), None)
        if doctor
        else None
    )
    if clinic is None:
        raise not_found(_("The schedule"))
    return doctor, clinic


@public
class ScheduleSearchView(FhirView):
    """Every schedule, or those of one `actor` (a Practitioner or a Location)."""

    def get(self, request):
        doctors = schedule_doctors().order_by("last_name", "id")
        actor = request.query_params.get("actor")
        location_id = None
        if actor:
            if "Location/" in actor:
                location_id = reference_id(actor, "Location")
            else:
                practitioner_id = referenced_uuid(reference_id(actor, "Practitioner"))
                doctors = doctors.filter(public_id=practitioner_id)
        items = []
        for doctor in doctors:
            for clinic in doctor.clinics.all():
                if location_id and str(clinic.public_id) != location_id:
                    continue
                items.append(r.schedule(doctor, clinic, list(doctor.services.all())))
        return self.searchset(request, items)


@public
class ScheduleReadView(FhirView):
    def get(self, request, resource_id):
        doctor, clinic = schedule_pair(resource_id)
        return Response(r.schedule(doctor, clinic, list(doctor.services.all())))
