"""The bulk history loader (`bench.history`): what it writes is what production could hold.

COPY is PostgreSQL's: on SQLite these tests are skipped.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone

from bench import history, history_staff
from scheduling.choices import OCCUPYING_STATUSES
from scheduling.models import Appointment, Occupancy
from tests.factories import ClinicFactory, PatientFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL"),
]


def test_a_history_grows_in_steps_without_overlaps():
    clinics = [ClinicFactory(timezone="Asia/Irkutsk"), ClinicFactory(timezone="Europe/Moscow")]
    patients = [PatientFactory().pk for _ in range(30)]
    roster = history_staff.staff(clinics, doctors_per_clinic=2)
    until = timezone.localdate() - datetime.timedelta(days=1)
    common = {"seats": roster.seats, "patient_ids": patients, "until": until, "days": 60}

    first = history.load(count=400, **common)
    # `loaded` is what the earlier step was asked for: its band of slots ends there.
    second = history.load(count=900, loaded=400, **common)

    total = first["appointments"] + second["appointments"]
    assert Appointment.objects.count() == total
    # The bands are drawn at random: each step lands within a few percent of what was asked.
    assert 360 <= first["appointments"] <= 400
    assert 820 <= second["appointments"] <= 900
    assert history.overlaps() == 0
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert {"completed", "cancelled", "no_show"} <= statuses
    assert statuses & {"booked", "confirmed"}  # the two weeks ahead
    # Only visits still ahead keep occupancy rows here, one for the doctor and one for the room.
    ahead = Appointment.objects.filter(
        status__in=OCCUPYING_STATUSES, ends_at__gt=timezone.now()
    ).count()
    assert Occupancy.objects.count() == 2 * ahead
    # Every visit lies on its doctor's grid inside the shift, in the clinic's local time.
    for visit in Appointment.objects.select_related("clinic")[:200]:
        local = timezone.localtime(visit.starts_at, zoneinfo.ZoneInfo(visit.clinic.timezone))
        assert history_staff.SHIFT[0] <= local.time() < history_staff.SHIFT[1]
        assert local.minute % history_staff.STEP_MINUTES == 0


def test_cancellation_reasons_are_stored_encrypted():
    clinic = ClinicFactory()
    roster = history_staff.staff([clinic], doctors_per_clinic=2)
    history.load(
        count=300,
        seats=roster.seats,
        patient_ids=[PatientFactory().pk],
        until=timezone.localdate() - datetime.timedelta(days=1),
        days=60,
    )
    reasons = set(
        Appointment.objects.filter(status="cancelled").values_list("cancel_reason", flat=True)
    )
    assert reasons & set(history.CANCEL_REASONS) - {""}
    with connection.cursor() as cursor:
        cursor.execute("SELECT cancel_reason FROM scheduling_appointment WHERE cancel_reason <> ''")
        raw = {row[0] for row in cursor.fetchall()}
    assert raw and not raw & set(history.CANCEL_REASONS)


def test_visits_ahead_were_booked_and_confirmed_before_the_load():
    """Nothing loaded is stamped in the future or at the load's instant: the rollups' refresh
    would take such rows for changes on every run."""
    clinic = ClinicFactory()
    patients = [PatientFactory().pk for _ in range(10)]
    roster = history_staff.staff([clinic], doctors_per_clinic=2)
    before = timezone.now()
    history.load(
        count=300,
        seats=roster.seats,
        patient_ids=patients,
        until=timezone.localdate() - datetime.timedelta(days=1),
        days=20,
    )
    ahead = Appointment.objects.filter(starts_at__gte=before)
    assert ahead.exists()
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    assert not ahead.filter(created_at__gt=hour_ago).exists()
    assert not ahead.filter(updated_at__gt=hour_ago).exists()
    for visit in ahead.exclude(confirmed_at=None):
        assert visit.created_at <= visit.confirmed_at <= hour_ago
