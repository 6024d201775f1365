"""Guards of the booking services against input and histories the common paths never produce."""

import datetime
import zoneinfo

import pytest

from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.errors import InvalidInput, InvalidTransition, OutsideBookingWindow
from scheduling.models import AppointmentEvent, Occupancy, RollbackRecord
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_rollback,
)
from tests.scheduling.conftest import local

S = AppointmentStatus
K = AppointmentEventKind


@pytest.fixture
def appointment(clock, clinic_a, doctor, service, patient):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="online",
        actor=patient.user,
    )


@pytest.mark.parametrize("start", [datetime.datetime(2027, 3, 2, 10), "2027-03-02T10:00+08:00"])
def test_a_move_to_a_naive_or_non_datetime_start_is_refused(appointment, registrar_a, start):
    with pytest.raises(InvalidInput) as err:
        appointment_reschedule(appointment=appointment, start=start, actor=registrar_a)
    assert (err.value.code, err.value.params) == ("naive_datetime", {"field": "start"})
    appointment.refresh_from_db()
    assert appointment.reschedule_count == 0
    assert not AppointmentEvent.objects.filter(kind=K.RESCHEDULED).exists()


def test_a_move_to_the_end_of_the_calendar_is_beyond_the_horizon_not_a_crash(
    appointment, registrar_a
):
    # 23:00 in New York on the calendar's last day is a UTC instant past it.
    start = datetime.datetime(9999, 12, 31, 23, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    with pytest.raises(OutsideBookingWindow) as err:
        appointment_reschedule(appointment=appointment, start=start, actor=registrar_a)
    assert err.value.code == "beyond_horizon"
    appointment.refresh_from_db()
    assert appointment.reschedule_count == 0


def test_a_move_is_not_rolled_back_once_the_visit_was_cancelled_by_a_server_running_behind(
    clock, clinic_a, appointment, registrar_a
):
    """The red button takes the latest event by its time. A cancellation recorded by a server
    whose clock lags looks older than the move it followed; the appointment is no longer
    movable, so the rollback is refused and the cancellation stands."""
    clock.advance(minutes=1)
    appointment_reschedule(
        appointment=appointment, start=local(clinic_a, 2027, 3, 3, 9), actor=registrar_a
    )
    clock.advance(seconds=-30)
    appointment_cancel(appointment=appointment, actor=registrar_a, reason="Patient called")
    clock.advance(minutes=2)
    last = appointment.events.order_by("-occurred_at", "-id").first()
    assert last.kind == K.RESCHEDULED
    with pytest.raises(InvalidTransition) as err:
        appointment_rollback(appointment=appointment, actor=registrar_a)
    assert err.value.code == "not_movable"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED
    assert appointment.starts_at == local(clinic_a, 2027, 3, 3, 9)
    assert not Occupancy.objects.filter(appointment=appointment).exists()
    assert not RollbackRecord.objects.exists()
