"""Occupancy writes and the translation of database clashes into `SlotTaken`.

PostgreSQL refuses overlaps with its exclusion constraint; SQLite has none, and there the
look-up that `occupancy_take` makes before its insert finds them. Where one backend never
takes a path (a refused insert on SQLite), the database's answer is given as the driver would
give it.
"""

import datetime

import pytest
from django.db import IntegrityError, OperationalError, transaction
from psycopg import errors as pg_errors

from scheduling.errors import RollbackConflict, SlotTaken
from scheduling.models import Hold, Occupancy, Specialty
from scheduling.selectors.availability.busy import visit_spans
from scheduling.services.booking import appointment_book
from scheduling.services.occupancy import conflicts_as_slot_taken, is_conflict, occupancy_take
from tests.factories import SpecialtyFactory
from tests.scheduling.conftest import local

MINUTE = datetime.timedelta(minutes=1)


def db_error(kind: type[Exception], cause: BaseException | None) -> Exception:
    """The exception Django raises for a driver error: the driver's one is its `__cause__`."""
    try:
        raise kind("database error") from cause
    except kind as exc:
        return exc


@pytest.fixture
def booked(clock, clinic_a, doctor, service, patient):
    """An appointment at Tuesday 09:00–09:30 in clinic A."""
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="online",
        actor=patient.user,
    )


def overlapping_spans(appointment, *, shift: datetime.timedelta):
    return visit_spans(
        doctor_id=appointment.doctor_id,
        room_id=None,
        equipment_ids=[],
        start=appointment.starts_at + shift,
        end=appointment.ends_at + shift,
        buffer_minutes=0,
    )


# --- is_conflict ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cause",
    [pg_errors.ExclusionViolation, pg_errors.DeadlockDetected, pg_errors.SerializationFailure],
)
def test_exclusion_violations_deadlocks_and_serialization_failures_are_clashes(cause):
    assert is_conflict(db_error(IntegrityError, cause("clash")))
    assert is_conflict(db_error(OperationalError, cause("clash")))


@pytest.mark.parametrize(
    "cause", [pg_errors.UniqueViolation("dup"), pg_errors.CheckViolation("check"), None]
)
def test_other_database_errors_are_not_clashes(cause):
    assert not is_conflict(db_error(IntegrityError, cause))


# --- conflicts_as_slot_taken ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clash_inside_a_service_becomes_slot_taken_and_nothing_is_kept():
    @conflicts_as_slot_taken
    def service_that_loses_a_race():
        SpecialtyFactory(slug="written-before-the-clash")
        raise db_error(OperationalError, pg_errors.DeadlockDetected("deadlock"))

    with pytest.raises(SlotTaken) as err:
        service_that_loses_a_race()
    assert isinstance(err.value.__cause__, OperationalError)
    assert not Specialty.objects.filter(slug="written-before-the-clash").exists()


@pytest.mark.django_db
def test_other_database_errors_leave_a_service_unchanged_and_roll_it_back():
    original = db_error(IntegrityError, pg_errors.UniqueViolation("duplicate key"))

    @conflicts_as_slot_taken
    def service_with_a_bug():
        SpecialtyFactory(slug="written-before-the-error")
        raise original

    with pytest.raises(IntegrityError) as err:
        service_with_a_bug()
    assert err.value is original
    assert not Specialty.objects.filter(slug="written-before-the-error").exists()


@pytest.mark.django_db
def test_a_service_that_succeeds_returns_its_result():
    @conflicts_as_slot_taken
    def service(*, value):
        return value * 2

    assert service(value=21) == 42


# --- occupancy_take ------------------------------------------------------------------------------
#
# Without what the engine read, one path on every backend: clear expired holds in the way, look
# for live rows in the way, insert. With it (`expired_hold_ids`), only the insert: PostgreSQL's
# exclusion constraint still refuses a clash. A conflict leaves the transaction to be rolled
# back, which the services' `conflicts_as_slot_taken` does: the tests wrap the calls in
# `transaction.atomic()`.


def insert(booked, clock, *, shifts, conflict=SlotTaken, expired_hold_ids=None):
    with transaction.atomic():
        occupancy_take(
            spans=[s for shift in shifts for s in overlapping_spans(booked, shift=shift)],
            clinic_id=booked.clinic_id,
            now=clock.now,
            appointment=booked,
            conflict=conflict,
            expired_hold_ids=expired_hold_ids,
        )


def test_an_overlap_is_refused_with_the_callers_error_and_nothing_is_written(clock, booked):
    before = Occupancy.objects.count()
    with pytest.raises(RollbackConflict):
        insert(booked, clock, shifts=[15 * MINUTE], conflict=RollbackConflict)
    with pytest.raises(SlotTaken):
        insert(booked, clock, shifts=[-15 * MINUTE])
    assert Occupancy.objects.count() == before


def test_back_to_back_is_not_an_overlap_and_the_rows_go_in(clock, booked):
    before = Occupancy.objects.count()
    insert(booked, clock, shifts=[30 * MINUTE])
    assert Occupancy.objects.count() == before + 1


@pytest.mark.postgres_only
def test_the_database_refuses_a_clash_the_caller_did_not_look_for(clock, booked):
    """A concurrent transaction committed a clashing row after the engine's read: the exclusion
    constraint refuses the insert, and the caller's error is raised."""
    before = Occupancy.objects.count()
    with pytest.raises(RollbackConflict) as err:
        insert(booked, clock, shifts=[15 * MINUTE], conflict=RollbackConflict, expired_hold_ids=[])
    assert isinstance(err.value.__cause__, IntegrityError)
    assert Occupancy.objects.count() == before


def test_an_exclusion_violation_becomes_the_callers_error(clock, booked, monkeypatch):
    """As PostgreSQL answers (psycopg's error under Django's), on every backend."""

    def refused(rows):
        raise db_error(IntegrityError, pg_errors.ExclusionViolation("occupancy_no_overlap"))

    monkeypatch.setattr(Occupancy.objects, "bulk_create", refused)
    with pytest.raises(RollbackConflict) as err:
        insert(booked, clock, shifts=[60 * MINUTE], conflict=RollbackConflict)
    assert isinstance(err.value.__cause__, IntegrityError)


def test_an_occupancy_row_without_an_owner_is_a_plain_integrity_error(clock, booked):
    """Only clashes become `SlotTaken`; a broken row is a bug and surfaces as one."""
    before = Occupancy.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        occupancy_take(
            spans=overlapping_spans(booked, shift=60 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
        )
    assert Occupancy.objects.count() == before


def expired_hold_at(clock, appointment, *, shift):
    start = appointment.starts_at + shift
    held = Hold.objects.create(
        doctor_id=appointment.doctor_id,
        clinic_id=appointment.clinic_id,
        service_id=appointment.service_id,
        starts_at=start,
        ends_at=start + 30 * MINUTE,
        channel="online",
        created_at=clock.now - 11 * MINUTE,
        expires_at=clock.now - MINUTE,
    )
    Occupancy.objects.create(
        resource_kind="d",
        resource_id=appointment.doctor_id,
        clinic_id=appointment.clinic_id,
        starts_at=start,
        ends_at=start + 30 * MINUTE,
        hold=held,
        expires_at=held.expires_at,
    )
    return held


def test_an_expired_hold_in_the_way_is_cleared_and_the_rows_go_in(clock, booked):
    held = expired_hold_at(clock, booked, shift=60 * MINUTE)
    insert(booked, clock, shifts=[60 * MINUTE])
    assert not Hold.objects.filter(pk=held.pk).exists()
    assert not Occupancy.objects.filter(hold_id=held.pk).exists()
    assert Occupancy.objects.filter(appointment=booked).count() == 2


def test_an_expired_hold_out_of_the_way_is_left_alone(clock, booked):
    held = expired_hold_at(clock, booked, shift=120 * MINUTE)
    insert(booked, clock, shifts=[60 * MINUTE])
    assert Occupancy.objects.filter(hold_id=held.pk).count() == 1


def test_a_live_row_behind_an_expired_hold_still_refuses_the_insert(clock, booked):
    held = expired_hold_at(clock, booked, shift=60 * MINUTE)
    with pytest.raises(SlotTaken):
        # One span where the expired hold is, one over the booked visit.
        insert(booked, clock, shifts=[60 * MINUTE, 15 * MINUTE])
    assert Occupancy.objects.filter(appointment=booked).count() == 1
    assert Occupancy.objects.filter(hold_id=held.pk).count() == 1


def test_with_what_the_engine_read_only_the_expired_holds_named_are_cleared(clock, booked):
    in_the_way = expired_hold_at(clock, booked, shift=60 * MINUTE)
    elsewhere = expired_hold_at(clock, booked, shift=120 * MINUTE)
    insert(booked, clock, shifts=[60 * MINUTE], expired_hold_ids=[in_the_way.pk])
    assert not Hold.objects.filter(pk=in_the_way.pk).exists()
    assert Hold.objects.filter(pk=elsewhere.pk).exists()
    assert Occupancy.objects.filter(appointment=booked).count() == 2
