"""Occupancy writes and the translation of database clashes into `SlotTaken`.

PostgreSQL refuses overlaps with its exclusion constraint; SQLite has none, so
`occupancy_insert` checks first there. Both paths run on either backend here: the check path by
telling the module it is not on PostgreSQL, the constraint path (on SQLite) by raising the error
psycopg raises for an exclusion violation.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, OperationalError, connection
from psycopg import errors as pg_errors

from scheduling.errors import RollbackConflict, SlotTaken
from scheduling.models import Hold, Occupancy, Specialty
from scheduling.services import occupancy
from scheduling.services.booking import appointment_book
from scheduling.services.occupancy import (
    conflicts_as_slot_taken,
    is_conflict,
    occupancy_insert,
    spans_for,
)
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
    return spans_for(
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


# --- occupancy_insert ----------------------------------------------------------------------------


def test_an_overlap_is_refused_with_the_callers_error_and_nothing_is_written(clock, booked):
    before = Occupancy.objects.count()
    with pytest.raises(RollbackConflict):
        occupancy_insert(
            spans=overlapping_spans(booked, shift=15 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
            appointment_id=booked.pk,
            conflict=RollbackConflict,
        )
    assert Occupancy.objects.count() == before


def test_without_an_exclusion_constraint_overlaps_are_checked_before_inserting(
    clock, booked, monkeypatch
):
    monkeypatch.setattr(occupancy, "connection", SimpleNamespace(vendor="sqlite"))
    before = Occupancy.objects.count()
    with pytest.raises(SlotTaken):
        occupancy_insert(
            spans=overlapping_spans(booked, shift=-15 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
            appointment_id=booked.pk,
        )
    assert Occupancy.objects.count() == before
    # Back to back is not an overlap: the rows go in.
    occupancy_insert(
        spans=overlapping_spans(booked, shift=30 * MINUTE),
        clinic_id=booked.clinic_id,
        now=clock.now,
        appointment_id=booked.pk,
    )
    assert Occupancy.objects.count() == before + 1


def test_an_exclusion_violation_from_postgresql_becomes_the_callers_error(
    clock, booked, monkeypatch
):
    """On PostgreSQL the insert itself is refused; the check-first path is skipped."""
    monkeypatch.setattr(occupancy, "connection", SimpleNamespace(vendor="postgresql"))
    if connection.vendor != "postgresql":
        refused = db_error(IntegrityError, pg_errors.ExclusionViolation("occupancy_no_overlap"))

        def bulk_create(rows):
            raise refused

        monkeypatch.setattr(Occupancy.objects, "bulk_create", bulk_create)
    with pytest.raises(RollbackConflict) as err:
        occupancy_insert(
            spans=overlapping_spans(booked, shift=15 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
            appointment_id=booked.pk,
            conflict=RollbackConflict,
        )
    assert isinstance(err.value.__cause__, IntegrityError)
    assert Occupancy.objects.filter(appointment=booked).count() == 1


def test_an_occupancy_row_without_an_owner_is_a_plain_integrity_error(clock, booked):
    """Only clashes become `SlotTaken`; a broken row is a bug and surfaces as one."""
    before = Occupancy.objects.count()
    with pytest.raises(IntegrityError):
        occupancy_insert(
            spans=overlapping_spans(booked, shift=60 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
        )
    assert Occupancy.objects.count() == before


def constraint_like_postgresql(monkeypatch):
    """Run `occupancy_insert`'s PostgreSQL path on either backend: on SQLite a stand-in for the
    exclusion constraint refuses rows that overlap any existing row of the same resource."""
    monkeypatch.setattr(occupancy, "connection", SimpleNamespace(vendor="postgresql"))
    if connection.vendor == "postgresql":
        return
    original = Occupancy.objects.bulk_create

    def bulk_create(rows):
        spans = [
            occupancy.Span(r.resource_kind, r.resource_id, r.starts_at, r.ends_at) for r in rows
        ]
        if Occupancy.objects.filter(occupancy._overlapping(spans)).exists():
            raise db_error(IntegrityError, pg_errors.ExclusionViolation("occupancy_no_overlap"))
        return original(rows)

    monkeypatch.setattr(Occupancy.objects, "bulk_create", bulk_create)


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


def test_an_expired_hold_in_the_way_is_cleared_when_the_constraint_refuses_and_the_rows_go_in(
    clock, booked, monkeypatch
):
    constraint_like_postgresql(monkeypatch)
    held = expired_hold_at(clock, booked, shift=60 * MINUTE)
    occupancy_insert(
        spans=overlapping_spans(booked, shift=60 * MINUTE),
        clinic_id=booked.clinic_id,
        now=clock.now,
        appointment_id=booked.pk,
    )
    assert not Occupancy.objects.filter(hold_id=held.pk).exists()
    assert Occupancy.objects.filter(appointment=booked).count() == 2


def test_a_live_row_behind_an_expired_hold_still_refuses_the_insert(clock, booked, monkeypatch):
    constraint_like_postgresql(monkeypatch)
    expired_hold_at(clock, booked, shift=60 * MINUTE)
    with pytest.raises(SlotTaken) as err:
        occupancy_insert(
            # One span where the expired hold is, one over the booked visit.
            spans=overlapping_spans(booked, shift=60 * MINUTE)
            + overlapping_spans(booked, shift=15 * MINUTE),
            clinic_id=booked.clinic_id,
            now=clock.now,
            appointment_id=booked.pk,
        )
    assert isinstance(err.value.__cause__, IntegrityError)
    assert Occupancy.objects.filter(appointment=booked).count() == 1


def test_without_an_exclusion_constraint_an_expired_hold_in_the_way_is_cleared_first(
    clock, booked, monkeypatch
):
    # The serialized-backend path, on either backend: the check finds the expired hold, clears
    # it inside the transaction, finds nothing live and inserts.
    monkeypatch.setattr(occupancy, "connection", SimpleNamespace(vendor="sqlite"))
    held = expired_hold_at(clock, booked, shift=60 * MINUTE)
    occupancy_insert(
        spans=overlapping_spans(booked, shift=60 * MINUTE),
        clinic_id=booked.clinic_id,
        now=clock.now,
        appointment_id=booked.pk,
    )
    assert not Occupancy.objects.filter(hold_id=held.pk).exists()
    assert Occupancy.objects.filter(appointment=booked).count() == 2
