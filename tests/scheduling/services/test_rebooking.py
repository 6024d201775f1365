"""Tasks handed to the desk: one open task per visit, only for visits still ahead."""

import datetime

import pytest

from portal.models import AuditEvent
from scheduling.choices import AppointmentStatus, RebookReason
from scheduling.errors import InvalidInput
from scheduling.models import RebookTask
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.rebooking import MAX_DETAIL_LENGTH, rebook_task_close, rebook_tasks_open

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


def book(patient, doctor, service, index=0):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[index]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=patient.user,
    )


def test_it_opens_one_task_per_waiting_visit(clock, doctor, service, patient, registrar_a):
    first, second = book(patient, doctor, service), book(patient, doctor, service, 1)
    tasks = rebook_tasks_open(
        appointments=[first, second],
        reason=RebookReason.CLOSURE,
        detail="  Room 2 closed  ",
        actor=registrar_a,
    )
    assert [t.appointment for t in tasks] == [first, second]
    assert {t.detail for t in tasks} == {"Room 2 closed"}
    assert all(t.created_by == registrar_a for t in tasks)
    again = rebook_tasks_open(
        appointments=[first, second], reason=RebookReason.LEAVE, actor=registrar_a
    )
    assert again == []
    assert RebookTask.objects.filter(closed_at__isnull=True).count() == 2
    assert AuditEvent.objects.filter(object_type="scheduling.rebooktask").count() == 2


def test_cancelled_visits_need_no_task(clock, doctor, service, patient, registrar_a):
    visit = book(patient, doctor, service)
    visit = appointment_cancel(appointment=visit, actor=patient.user, reason="")
    assert visit.status == AppointmentStatus.CANCELLED
    assert rebook_tasks_open(appointments=[visit], reason="other", actor=None) == []


def test_bad_reason_or_detail_changes_nothing(clock, doctor, service, patient, registrar_a):
    visit = book(patient, doctor, service)
    with pytest.raises(InvalidInput):
        rebook_tasks_open(appointments=[visit], reason="whim", actor=registrar_a)
    with pytest.raises(InvalidInput):
        rebook_tasks_open(
            appointments=[visit],
            reason="other",
            detail="x" * (MAX_DETAIL_LENGTH + 1),
            actor=registrar_a,
        )
    assert not RebookTask.objects.exists()


def test_closing_is_recorded_once(clock, doctor, service, patient, registrar_a):
    visit = book(patient, doctor, service)
    (task,) = rebook_tasks_open(appointments=[visit], reason="other", actor=None)
    closed = rebook_task_close(task=task, actor=registrar_a)
    assert closed.closed_at is not None
    assert closed.closed_by == registrar_a
    again = rebook_task_close(task=task, actor=None)
    assert again.closed_at == closed.closed_at
    assert again.closed_by == registrar_a
    # A closed task leaves room for a new one.
    assert len(rebook_tasks_open(appointments=[visit], reason="leave", actor=None)) == 1
