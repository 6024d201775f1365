"""Refused overlapping bookings are counted per clinic-local day, after the refused
transaction rolled back, and a successful booking pays nothing for it."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from scheduling.choices import AppointmentChannel
from scheduling.errors import SlotTaken
from scheduling.models import Appointment, RefusedOverlap
from scheduling.services.booking import appointment_book, appointment_reschedule
from scheduling.services.refusals import refused_overlap_record
from tests.scheduling.conftest import local
from tests.scheduling.services.test_booking import book

HOUR = datetime.timedelta(hours=1)
# 17:30 UTC on Monday 1 March 2027 is already Tuesday 01:30 in Irkutsk (UTC+8).
LATE_EVENING_UTC = datetime.datetime(2027, 3, 1, 17, 30, tzinfo=datetime.UTC)
TUESDAY = datetime.date(2027, 3, 2)


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 3, 9)


def test_a_refused_booking_is_counted_on_the_clinics_local_day(
    clock, clinic_a, doctor, service, patient, other_patient, tue9
):
    clock.now = LATE_EVENING_UTC
    book(patient, doctor, service, tue9)
    assert not RefusedOverlap.objects.exists()
    with pytest.raises(SlotTaken):
        book(other_patient, doctor, service, tue9, channel=AppointmentChannel.PHONE)
    with pytest.raises(SlotTaken):
        book(other_patient, doctor, service, tue9, channel=AppointmentChannel.PHONE)
    row = RefusedOverlap.objects.get()
    assert (row.clinic, row.date, row.doctor, row.service) == (clinic_a, TUESDAY, doctor, service)
    assert (row.channel, row.count) == (AppointmentChannel.PHONE, 2)
    # The refused bookings themselves left nothing behind.
    assert Appointment.objects.count() == 1


def test_a_refused_move_is_counted_with_the_visits_channel(
    clock, clinic_a, doctor, service, patient, other_patient, tue9
):
    mine = book(patient, doctor, service, tue9)
    book(other_patient, doctor, service, tue9 + HOUR)
    with pytest.raises(SlotTaken):
        appointment_reschedule(appointment=mine, start=tue9 + HOUR, actor=patient.user)
    row = RefusedOverlap.objects.get()
    assert (row.clinic, row.channel, row.count) == (clinic_a, AppointmentChannel.ONLINE, 1)
    mine.refresh_from_db()
    assert mine.starts_at == tue9


def test_other_refusals_are_not_overlaps(clock, doctor, service, patient, tue9):
    from scheduling.errors import SlotUnavailable

    with pytest.raises(SlotUnavailable):
        book(patient, doctor, service, tue9 + datetime.timedelta(minutes=10))
    assert not RefusedOverlap.objects.exists()


def test_a_successful_booking_runs_no_query_for_the_counter(
    clock, clinic_a, doctor, service, patient, tue9
):
    """The counting wrapper adds nothing: the same booking costs what the engine alone
    costs (two identical free slots, one booked each way)."""
    undecorated = appointment_book.__wrapped__
    user = patient.user
    book(patient, doctor, service, tue9 - datetime.timedelta(days=1))  # warm the caches
    with CaptureQueriesContext(connection) as bare:
        undecorated(
            patient=patient,
            doctor=doctor,
            service=service,
            start=tue9,
            channel=AppointmentChannel.ONLINE,
            actor=user,
        )
    with CaptureQueriesContext(connection) as counted:
        appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=tue9 + HOUR,
            channel=AppointmentChannel.ONLINE,
            actor=user,
        )
    assert len(counted.captured_queries) == len(bare.captured_queries)
    assert not RefusedOverlap.objects.exists()


def test_counting_is_safe_when_the_days_row_exists_already(clinic_a, doctor, service):
    when = datetime.datetime(2027, 3, 1, 17, 30, tzinfo=datetime.UTC)
    key = {
        "clinic_id": clinic_a.pk,
        "doctor_id": doctor.pk,
        "service_id": service.pk,
        "channel": AppointmentChannel.PHONE,
        "when": when,
    }
    with transaction.atomic():
        refused_overlap_record(**key)
        refused_overlap_record(**key)
    assert RefusedOverlap.objects.get().count == 2


def test_the_refusals_clinic_comes_from_the_hold_else_the_doctors_first_clinic(
    clinic_a, clinic_b, doctor
):
    from types import SimpleNamespace

    from scheduling.services.refusals import _clinic_of_refusal

    held = SimpleNamespace(clinic_id=clinic_b.pk)
    assert _clinic_of_refusal(doctor=doctor, start=None, clinic=None, hold=held) == clinic_b.pk
    # No time to look for the visit in the way: the doctor's first clinic.
    first = doctor.clinics.order_by("pk").first().pk
    assert _clinic_of_refusal(doctor=doctor, start=None, clinic=None, hold=None) == first


def test_a_counter_that_fails_leaves_the_taken_answer_as_it_was(
    clock, doctor, service, patient, other_patient, tue9, monkeypatch, caplog
):
    import scheduling.services.refusals as refusals

    def broken(func_name, kwargs):
        raise RuntimeError("counter down")

    monkeypatch.setattr(refusals, "_record", broken)
    book(patient, doctor, service, tue9)
    with pytest.raises(SlotTaken):
        book(other_patient, doctor, service, tue9)
    assert "refused overlap not counted" in caplog.text
    assert not RefusedOverlap.objects.exists()
