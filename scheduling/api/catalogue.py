"""Public, read-only catalogue: clinics, specialties, services, doctors (anonymous allowed)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.access import public
from portal.api.exceptions import problem_responses
from scheduling.api import serializers as s
from scheduling.selectors import catalogue


@public
class PublicAPIView(APIView):
    """Anonymous readers need no CSRF token or session; authenticated ones are welcome too."""


class ClinicListView(PublicAPIView):
    """Clinics of the network: address, time zone and contacts."""

    @extend_schema(operation_id="clinics_list", responses={200: s.ClinicOutput(many=True)})
    def get(self, request):
        return Response(s.ClinicOutput(catalogue.public_clinics(), many=True).data)


class SpecialtyListView(PublicAPIView):
    """Medical specialties."""

    @extend_schema(operation_id="specialties_list", responses={200: s.SpecialtyOutput(many=True)})
    def get(self, request):
        return Response(s.SpecialtyOutput(catalogue.public_specialties(), many=True).data)


class ServiceListView(PublicAPIView):
    """Bookable services: duration, price and preparation."""

    @extend_schema(
        operation_id="services_list",
        parameters=[s.ServiceFilterInput],
        responses={200: s.ServiceOutput(many=True), **problem_responses(400, 404)},
    )
    def get(self, request):
        query = s.ServiceFilterInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        specialty = None
        if "specialty" in query.validated_data:
            specialty = catalogue.get_by_public_id(
                catalogue.public_specialties(), query.validated_data["specialty"]
            )
        services = catalogue.public_services(specialty=specialty)
        return Response(s.ServiceOutput(services, many=True).data)


class DoctorListView(PublicAPIView):
    """Doctors: bio, languages, specialties, clinics and services; filter by specialty, clinic."""

    @extend_schema(
        operation_id="doctors_list",
        parameters=[s.DoctorFilterInput],
        responses={200: s.DoctorOutput(many=True), **problem_responses(400, 404)},
    )
    def get(self, request):
        query = s.DoctorFilterInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        specialty = clinic = None
        if "specialty" in data:
            specialty = catalogue.get_by_public_id(
                catalogue.public_specialties(), data["specialty"]
            )
        if "clinic" in data:
            clinic = catalogue.get_by_public_id(catalogue.public_clinics(), data["clinic"])
        doctors = catalogue.public_doctors(specialty=specialty, clinic=clinic)
        return Response(s.DoctorOutput(doctors, many=True).data)
