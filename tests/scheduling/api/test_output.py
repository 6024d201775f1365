"""The booking answer's fast writer says exactly what the documented serializer says."""

import datetime
import json
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from scheduling.api.serializers import AppointmentOutput, appointment_output
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment, Room
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db


def _as_json(data) -> dict:
    return json.loads(JSONRenderer().render(data))


def _appointment(patient, doctor, service, clinic, day, **fields) -> Appointment:
    start = at(clinic, day, 10)
    now = timezone.now()
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        service=service,
        clinic=clinic,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
        created_at=now,
        updated_at=now,
        **fields,
    )


@pytest.mark.parametrize("display_zone", [None, "Europe/Moscow", "UTC"])
def test_the_fast_answer_equals_the_serializers(
    patient, doctor, service, clinic_a, tomorrow_a, display_zone
):
    room = Room.objects.create(clinic=clinic_a, name="Кабинет 12")
    with_room = _appointment(
        patient, doctor, service, clinic_a, tomorrow_a, room=room, price=Decimal("2500")
    )
    without_room = _appointment(
        patient,
        doctor,
        service,
        clinic_a,
        tomorrow_a + datetime.timedelta(days=1),
        status=AppointmentStatus.CANCELLED,
        cancel_reason="Заболел",
        price=Decimal("990.50"),
    )
    if display_zone:
        timezone.activate(zoneinfo.ZoneInfo(display_zone))
    try:
        for appointment in (with_room, without_room):
            appointment.refresh_from_db()
            fast = _as_json(appointment_output(appointment))
            assert fast == _as_json(AppointmentOutput(appointment).data)
    finally:
        timezone.deactivate()
    assert fast["room"] is None and fast["cancel_reason"] == "Заболел"
    assert fast["price"] == "990.50"
