"""A message names the clinic's zone with its time when the recipient lives in another zone."""

import pytest

from notifications.models import OutboxMessage
from notifications.rendering import render_message

pytestmark = pytest.mark.django_db

IRKUTSK_START = "2027-03-02T09:00:00+08:00"


def body_for(patient, language="en") -> str:
    message = OutboxMessage(
        event="appointment.booked",
        channel="sms",
        language=language,
        patient=patient,
        to_address="+79145550000",
        context={
            "start": IRKUTSK_START,
            "clinic": "Медфронт Центр",
            "clinic_address": "ул. Карла Маркса, 1",
            "clinic_city": "Иркутск",
            "doctor": "Петрова О. И.",
            "service": "Приём терапевта",
        },
    )
    return render_message(message)[1]


def test_a_patient_at_home_in_another_zone_reads_the_clinics_zone(patient, clinic_b):
    patient.home_clinic = clinic_b
    patient.save(update_fields=["home_clinic"])
    assert "2 Mar 2027, 09:00 (Иркутск time, UTC+8)" in body_for(patient)
    assert "2 марта 2027 г. 9:00 (время: Иркутск, UTC+8)" in body_for(patient, "ru")


def test_a_patient_at_home_in_the_clinics_zone_reads_the_time_alone(patient, clinic_a):
    patient.home_clinic = clinic_a
    patient.save(update_fields=["home_clinic"])
    body = body_for(patient)
    assert "2 Mar 2027, 09:00" in body
    assert "UTC" not in body
