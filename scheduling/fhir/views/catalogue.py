"""The public catalogue: Practitioner (doctors), HealthcareService (services), Location
(clinics), each searched as a whole or read by public id."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from portal.api.access import public
from scheduling.fhir import resources as r
from scheduling.fhir.views.base import FhirView, get_by_public_id
from scheduling.models import Doctor, Service
from scheduling.selectors import catalogue as selectors


def active_doctors():
    return Doctor.objects.filter(is_active=True).prefetch_related("specialties")


def active_services():
    return Service.objects.filter(is_active=True).select_related("specialty")


@public
class PractitionerSearchView(FhirView):
    def get(self, request):
        items = [r.practitioner(d) for d in active_doctors().order_by("last_name", "id")]
        return self.searchset(request, items)


@public
class PractitionerReadView(FhirView):
    def get(self, request, resource_id):
        doctor = get_by_public_id(active_doctors(), resource_id, _("The practitioner"))
        return Response(r.practitioner(doctor))


@public
class HealthcareServiceSearchView(FhirView):
    def get(self, request):
        items = [r.healthcare_service(s) for s in active_services().order_by("name")]
        return self.searchset(request, items)


@public
class HealthcareServiceReadView(FhirView):
    def get(self, request, resource_id):
        service = get_by_public_id(active_services(), resource_id, _("The service"))
        return Response(r.healthcare_service(service))


@public
class LocationSearchView(FhirView):
    def get(self, request):
        items = [r.location(c) for c in selectors.public_clinics()]
        return self.searchset(request, items)


@public
class LocationReadView(FhirView):
    def get(self, request, resource_id):
        clinic = get_by_public_id(selectors.public_clinics(), resource_id, _("The location"))
        return Response(r.location(clinic))
