"""iCal over the API: the caller's secret feed address (GET shows, POST rotates), the feed
itself (opened by its secret, for calendar apps that cannot sign in), and one visit as .ics."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.access import public
from portal.api.exceptions import problem_responses
from scheduling.api import serializers as s
from scheduling.selectors.appointments import get_appointment_for_user
from scheduling.selectors.calendar_feeds import doctor_of, feed_appointments, feed_owner
from scheduling.selectors.ics import appointment_ics, feed_ics
from scheduling.services.calendar_feeds import calendar_feed_rotate, calendar_feed_secret

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
ICS_RESPONSE = OpenApiResponse(OpenApiTypes.BINARY, description="text/calendar (RFC 5545)")


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _feed_url(request, secret: str) -> str:
    return request.build_absolute_uri(reverse("api-calendar-feed-ics", args=[secret]))


class CalendarFeedView(APIView):
    """Your secret iCal feed: patients get their family's visits, doctors their days."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="calendar_feed_retrieve",
        responses={200: s.CalendarFeedOutput, **problem_responses(401, 403)},
    )
    def get(self, request):
        secret = calendar_feed_secret(user=request.user)
        return Response(s.CalendarFeedOutput({"url": _feed_url(request, secret)}).data)

    @extend_schema(
        operation_id="calendar_feed_rotate",
        request=None,
        responses={200: s.CalendarFeedOutput, **problem_responses(401, 403)},
    )
    def post(self, request):
        secret = calendar_feed_rotate(user=request.user)
        return Response(s.CalendarFeedOutput({"url": _feed_url(request, secret)}).data)


@public
class CalendarFeedIcsView(APIView):
    """The feed itself; its address is the credential."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="calendar_feed_ics",
        responses={(200, "text/calendar"): ICS_RESPONSE, **problem_responses(404)},
        auth=[],
    )
    def get(self, request, secret):
        user = feed_owner(secret)
        if user is None:
            raise Http404
        doctor = doctor_of(user)
        body = feed_ics(
            feed_appointments(user),
            user=user,
            is_doctor_feed_for=doctor.pk if doctor else None,
        )
        return _ics_response(body, "medfront.ics")


class AppointmentIcsView(APIView):
    """One visit as an .ics file to add to any calendar."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="appointments_ics",
        responses={(200, "text/calendar"): ICS_RESPONSE, **problem_responses(401, 404)},
    )
    def get(self, request, public_id):
        appointment = get_appointment_for_user(request.user, public_id)
        return _ics_response(appointment_ics(appointment), f"visit-{appointment.public_id}.ics")
