"""`appointment_status_undo`: the desk takes back a check-in, no-show or completion marked by
mistake — on the day of the mark, before a payment, with a reason, once."""

import datetime
import decimal

import pytest

from notifications.models import OutboxMessage
from portal.models import AuditEvent
from scheduling.choices import AppointmentEventKind, AppointmentStatus, PaymentStatus
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed, PolicyViolation
from scheduling.models import Occupancy, Payment, RollbackRecord
from scheduling.selectors.status_undo import status_undo_refusal, status_undo_until
from scheduling.services.booking import (
    appointment_book,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_mark_no_show,
    appointment_status_undo,
)
from tests.scheduling.conftest import local

S = AppointmentStatus
K = AppointmentEventKind


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


@pytest.fixture
def visit(clock, doctor, service, patient, registrar_a, tue9):
    """A phone booking for Tuesday 09:00 (Irkutsk); the clock then stands at 08:30 that day."""
    booked = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=tue9,
        channel="phone",
        actor=registrar_a,
    )
    clock.now = tue9 - datetime.timedelta(minutes=30)
    return booked


def undo(visit, actor, reason="Отметили не того пациента", **kwargs):
    return appointment_status_undo(appointment=visit, actor=actor, reason=reason, **kwargs)


def test_a_wrong_check_in_goes_back_to_booked_with_a_trail(clock, visit, registrar_a):
    appointment_check_in(appointment=visit, actor=registrar_a)
    messages_before = OutboxMessage.objects.count()
    clock.advance(minutes=5)
    undone = undo(visit, registrar_a)
    assert undone.status == S.BOOKED and undone.checked_in_at is None
    visit.refresh_from_db()
    assert visit.status == S.BOOKED and visit.checked_in_at is None
    assert visit.updated_by == registrar_a and visit.updated_at == clock.now
    last = visit.events.order_by("-id").first()
    assert (last.kind, last.from_status, last.to_status) == (K.UNDONE, S.CHECKED_IN, S.BOOKED)
    assert last.reason == "Отметили не того пациента" and last.actor == registrar_a
    assert AuditEvent.objects.filter(object_id=str(visit.public_id)).count() == 3
    # The time stays held, the patient is not messaged, and no wrong booking is counted.
    assert Occupancy.objects.filter(appointment=visit).exists()
    assert OutboxMessage.objects.count() == messages_before
    assert not RollbackRecord.objects.exists()
    # The undo is the latest change now: there is nothing more to undo, and the visit can be
    # checked in again.
    with pytest.raises(InvalidTransition) as err:
        undo(visit, registrar_a)
    assert err.value.code == "nothing_to_undo"
    assert appointment_check_in(appointment=visit, actor=registrar_a).status == S.CHECKED_IN


def test_a_confirmed_visit_returns_to_confirmed(clock, visit, patient, registrar_a):
    clock.advance(minutes=-60)
    appointment_confirm(appointment=visit, actor=patient.user)
    clock.advance(minutes=60)
    appointment_check_in(appointment=visit, actor=registrar_a)
    undone = undo(visit, registrar_a)
    assert undone.status == S.CONFIRMED and undone.confirmed_at is not None


def test_a_wrong_no_show_goes_back(clock, visit, registrar_a):
    clock.advance(hours=2)
    appointment_mark_no_show(appointment=visit, actor=registrar_a)
    undone = undo(visit, registrar_a)
    assert undone.status == S.BOOKED and undone.no_show_at is None


def test_a_wrong_completion_goes_back_to_checked_in(clock, visit, registrar_a, doctor_a):
    appointment_check_in(appointment=visit, actor=registrar_a)
    clock.advance(minutes=40)
    appointment_complete(appointment=visit, actor=doctor_a)
    undone = undo(visit, registrar_a)
    assert undone.status == S.CHECKED_IN and undone.completed_at is None
    assert undone.checked_in_at is not None
    # Only the latest mark: the check-in before it stays.
    with pytest.raises(InvalidTransition):
        undo(visit, registrar_a)


def test_a_mark_of_an_earlier_day_stays(clock, visit, registrar_a, clinic_a):
    visit = appointment_check_in(appointment=visit, actor=registrar_a)
    clock.now = local(clinic_a, 2027, 3, 2, 23, 59)
    assert status_undo_until(appointment=visit, last=visit.events.last(), now=clock.now) == (
        local(clinic_a, 2027, 3, 3, 0)
    )
    clock.now = local(clinic_a, 2027, 3, 3, 0, 1)
    with pytest.raises(PolicyViolation) as err:
        undo(visit, registrar_a)
    assert err.value.code == "undo_day_passed"
    visit.refresh_from_db()
    assert visit.status == S.CHECKED_IN


def test_a_visit_paid_since_the_mark_keeps_its_status(clock, visit, registrar_a):
    visit = appointment_check_in(appointment=visit, actor=registrar_a)
    clock.advance(minutes=1)
    Payment.objects.create(
        appointment=visit,
        provider="test",
        status=PaymentStatus.SUCCEEDED,
        amount=decimal.Decimal("1500.00"),
        created_at=clock.now,
        updated_at=clock.now,
        paid_at=clock.now,
    )
    with pytest.raises(PolicyViolation) as err:
        undo(visit, registrar_a)
    assert err.value.code == "already_paid"
    assert status_undo_until(appointment=visit, last=visit.events.last(), now=clock.now) is None


def test_a_payment_made_before_the_mark_does_not_block_it(clock, visit, registrar_a):
    Payment.objects.create(
        appointment=visit,
        provider="test",
        status=PaymentStatus.SUCCEEDED,
        amount=decimal.Decimal("1500.00"),
        created_at=clock.now,
        updated_at=clock.now,
        paid_at=clock.now,
    )
    clock.advance(minutes=1)
    appointment_check_in(appointment=visit, actor=registrar_a)
    assert undo(visit, registrar_a).status == S.BOOKED


def test_a_booking_is_not_a_mark(clock, visit, registrar_a):
    with pytest.raises(InvalidTransition) as err:
        undo(visit, registrar_a)
    assert err.value.code == "nothing_to_undo"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(clock, visit, registrar_a, reason):
    appointment_check_in(appointment=visit, actor=registrar_a)
    with pytest.raises(InvalidInput) as err:
        undo(visit, registrar_a, reason=reason)
    assert err.value.code == "reason_required"
    with pytest.raises(InvalidInput):
        undo(visit, registrar_a, reason="x" * 301)
    visit.refresh_from_db()
    assert visit.status == S.CHECKED_IN


def test_patients_may_not_undo(clock, visit, registrar_a, patient):
    appointment_check_in(appointment=visit, actor=registrar_a)
    with pytest.raises(NotAllowed):
        undo(visit, patient.user)


def test_the_mark_the_page_showed_must_still_be_the_latest(clock, visit, registrar_a, doctor_a):
    checked_in = appointment_check_in(appointment=visit, actor=registrar_a)
    shown = checked_in.events.order_by("-id").first().pk
    appointment_complete(appointment=visit, actor=doctor_a)
    with pytest.raises(InvalidTransition) as err:
        undo(visit, registrar_a, event_id=shown)
    assert err.value.code == "changed_since"
    latest = visit.events.order_by("-id").first().pk
    assert undo(visit, registrar_a, event_id=latest).status == S.CHECKED_IN


def test_a_visit_without_history_or_out_of_step_with_it_has_nothing_to_undo(
    clock, visit, registrar_a
):
    assert status_undo_refusal(appointment=visit, last=None, now=clock.now) == "nothing_to_undo"
    appointment_check_in(appointment=visit, actor=registrar_a)
    last = visit.events.order_by("-id").first()
    visit.status = S.COMPLETED  # as a mirrored external change could leave it, without an event
    assert status_undo_refusal(appointment=visit, last=last, now=clock.now) == "nothing_to_undo"
    assert status_undo_until(appointment=visit, last=last, now=clock.now) is None
