"""`metadata`: the server's CapabilityStatement."""

from __future__ import annotations

from rest_framework.response import Response

from portal.api.access import public
from scheduling.fhir import resources as r
from scheduling.fhir.views.base import FhirView


@public
class MetadataView(FhirView):
    def get(self, request):
        return Response(r.capability_statement())
