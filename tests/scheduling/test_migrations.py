"""Migration 0009 encrypts the free text stored before it, and its reverse gives it back."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal.crypto import decrypt_text
from scheduling.models import Appointment, RollbackRecord, ScheduleException, Substitution
from scheduling.services.booking import appointment_book, appointment_cancel, appointment_rollback
from tests.factories import DoctorFactory
from tests.scheduling.conftest import local

# Schema changes on SQLite cannot run inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("scheduling", "0008_visit_documents")]
AFTER = [("scheduling", "0009_encrypt_free_text")]
REASON = "Госпитализирован в инфекционное отделение"
NOTE = "Больничный: пневмония"


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def free_text(clock, clinic_a, doctor, service, patient, registrar_a):
    start = local(clinic_a, 2027, 3, 2, 9)
    cancelled = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel="online",
        actor=patient.user,
    )
    appointment_cancel(appointment=cancelled, actor=patient.user, reason=REASON)
    rolled_back = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel="phone",
        actor=registrar_a,
    )
    appointment_rollback(appointment=rolled_back, actor=registrar_a, reason=REASON)
    day = datetime.date(2027, 3, 3)
    absence = ScheduleException.objects.create(
        doctor=doctor, kind="sick_leave", date_from=day, date_to=day, note=NOTE
    )
    substitution = Substitution.objects.create(
        clinic=clinic_a, date=day, absent_doctor=doctor, substitute=DoctorFactory(), note=NOTE
    )
    return {
        ("scheduling_appointment", "cancel_reason", cancelled.pk): REASON,
        ("scheduling_appointmentevent", "reason", cancelled.events.get(kind="cancelled").pk): (
            REASON
        ),
        ("scheduling_rollbackrecord", "reason", RollbackRecord.objects.get().pk): REASON,
        ("scheduling_scheduleexception", "note", absence.pk): NOTE,
        ("scheduling_substitution", "note", substitution.pk): NOTE,
    }


def test_the_reverse_decrypts_and_the_migration_encrypts_existing_rows(free_text):
    try:
        _migrate(BEFORE)
        for (table, column, pk), text in free_text.items():
            assert _raw(table, column, pk) == text, (table, column)
        _migrate(AFTER)
        for (table, column, pk), text in free_text.items():
            token = _raw(table, column, pk)
            assert text not in token, (table, column)
            assert decrypt_text(token) == text
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Appointment.objects.get(status="cancelled").cancel_reason == REASON
    assert ScheduleException.objects.get().note == NOTE
