"""GET /api/v1/slots/: free slots of one service, unpaginated, anonymous allowed.

Hot path: the engine loads a range in a fixed handful of queries and the view turns its slots
into plain dicts (no per-slot serializer).
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.access import public
from portal.api.exceptions import Problem, problem_responses
from portal.throttling import SlotReadThrottle
from scheduling.api import serializers as s
from scheduling.models import Doctor, Service
from scheduling.selectors import catalogue
from scheduling.selectors.availability import MAX_RANGE_DAYS, free_slots

DEFAULT_DAYS = 7


def _range_error(message) -> Problem:
    return Problem(
        status_code=400,
        slug="invalid-range",
        detail=message,
        extra={"errors": {"end": [str(message)]}},
    )


def slot_dicts(slots, *, price) -> list[dict]:
    """The API's slot items from the engine's slots (which carry their rooms' public ids)."""
    price_text = str(price)
    # Hundreds of slots share a few doctors, clinics and rooms: stringify each id once.
    texts: dict = {}

    def text(value):
        found = texts.get(value)
        if found is None:
            found = texts[value] = str(value)
        return found

    return [
        {
            "id": slot.slot_id,
            "start": slot.start.isoformat(),
            "end": slot.end.isoformat(),
            "doctor": text(slot.doctor_public_id),
            "clinic": text(slot.clinic_public_id),
            "room": None if slot.room_public_id is None else text(slot.room_public_id),
            "service": text(slot.service_public_id),
            "price": price_text,
        }
        for slot in slots
    ]


@public
class SlotListView(APIView):
    """Free slots of a service, optionally for one doctor, specialty, clinic or channel.

    Dates are clinic-local; `end` is inclusive and at most 62 days after `start`.
    """

    throttle_classes = [SlotReadThrottle]

    @extend_schema(
        operation_id="slots_list",
        parameters=[s.SlotQueryInput],
        responses={200: s.SlotOutput(many=True), **problem_responses(400, 404, 429)},
    )
    def get(self, request):
        query = s.SlotQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        service = catalogue.get_by_public_id(
            Service.objects.filter(is_active=True), data["service"]
        )
        doctor = specialty = clinic = None
        if "doctor" in data:
            doctor = catalogue.get_by_public_id(
                Doctor.objects.filter(is_active=True), data["doctor"]
            )
        if "specialty" in data:
            specialty = catalogue.get_by_public_id(
                catalogue.public_specialties(), data["specialty"]
            )
        if "clinic" in data:
            clinic = catalogue.get_by_public_id(catalogue.public_clinics(), data["clinic"])
        start = data.get("start") or (
            timezone.now().astimezone(clinic.tz).date() if clinic else timezone.localdate()
        )
        end = data.get("end") or start + datetime.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise _range_error(_("The end date is before the start date."))
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise _range_error(
                _("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS}
            )
        slots = free_slots(
            service=service,
            doctor=doctor,
            specialty=specialty,
            clinic=clinic,
            channel=data["channel"],
            start_date=start,
            end_date=end,
        )
        return Response(slot_dicts(slots, price=service.price))
