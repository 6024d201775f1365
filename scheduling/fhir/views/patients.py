"""Patient: the caller's own resource only; staff see none."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from portal import permissions
from scheduling.fhir import resources as r
from scheduling.fhir.views.base import FhirView, not_found


class PatientSearchView(FhirView):
    """The caller's own Patient resource (a searchset of one, or none for staff)."""

    def get(self, request):
        items = [r.patient(request.user.patient)] if permissions.is_patient(request.user) else []
        return self.searchset(request, items)


class PatientReadView(FhirView):
    def get(self, request, resource_id):
        if (
            not permissions.is_patient(request.user)
            or str(request.user.patient.public_id) != resource_id
        ):
            raise not_found(_("The patient"))
        return Response(r.patient(request.user.patient))
