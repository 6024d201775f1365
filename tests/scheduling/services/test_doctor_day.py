"""The doctor's own services, called directly: what they refuse whatever page calls them."""

import datetime

import pytest

from scheduling.choices import AppointmentStatus, LeaveKind
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.models import LeaveRequest
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book, appointment_check_in
from scheduling.services.doctor_day import (
    MAX_LEAVE_DAYS,
    MAX_LEAVE_NOTE_LENGTH,
    leave_request_create,
    visit_complete_by_doctor,
)
from tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


@pytest.fixture
def my_doctor(doctor, doctor_a):
    doctor.user = doctor_a
    doctor.save(update_fields=["user"])
    return doctor


def test_completing_needs_the_capability_in_the_visits_clinic(
    clock, my_doctor, service, patient, marketer
):
    slot = free_slots(service=service, doctor=my_doctor, start_date=TUE, end_date=TUE)[0]
    visit = appointment_book(
        patient=patient,
        doctor=my_doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )
    for outsider in (marketer, patient.user):
        with pytest.raises(NotAllowed):
            visit_complete_by_doctor(appointment=visit, actor=outsider)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def ask(doctor, actor, **changes):
    values = {
        "kind": LeaveKind.DAY_OFF,
        "date_from": TUE,
        "date_to": TUE,
        "note": "",
        **changes,
    }
    return leave_request_create(doctor=doctor, actor=actor, **values)


def test_a_doctor_asks_only_for_themselves(my_doctor, registrar_a):
    with pytest.raises(NotAllowed) as refused:
        ask(my_doctor, registrar_a)
    assert refused.value.code == "not_your_schedule"
    assert not LeaveRequest.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "holiday"}, "invalid_kind"),
        ({"date_to": TUE - datetime.timedelta(days=1)}, "dates_reversed"),
        ({"date_to": TUE + datetime.timedelta(days=MAX_LEAVE_DAYS)}, "too_long"),
        ({"note": "x" * (MAX_LEAVE_NOTE_LENGTH + 1)}, "note_too_long"),
    ],
)
def test_a_malformed_request_is_refused_and_nothing_recorded(my_doctor, doctor_a, changes, code):
    with pytest.raises(InvalidInput) as refused:
        ask(my_doctor, doctor_a, **changes)
    assert refused.value.code == code
    assert not LeaveRequest.objects.exists()


def test_a_doctor_is_not_their_own_substitute(my_doctor, doctor_a):
    with pytest.raises(InvalidInput) as refused:
        ask(my_doctor, doctor_a, kind=LeaveKind.SUBSTITUTION, substitute=my_doctor)
    assert refused.value.code == "self_substitute"
    # A day off names no substitute even when one is given; a real colleague is kept.
    colleague = DoctorFactory()
    day_off = ask(my_doctor, doctor_a, substitute=colleague)
    assert day_off.substitute is None
    swap = ask(my_doctor, doctor_a, kind=LeaveKind.SUBSTITUTION, substitute=colleague)
    assert swap.substitute == colleague


def test_a_visit_the_desk_checked_in_is_completed_without_a_second_check_in(
    clock, my_doctor, doctor_a, registrar_a, service, patient
):
    slot = free_slots(service=service, doctor=my_doctor, start_date=TUE, end_date=TUE)[0]
    visit = appointment_book(
        patient=patient,
        doctor=my_doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )
    clock.now = visit.starts_at
    checked_in = appointment_check_in(appointment=visit, actor=registrar_a)
    done, changed = visit_complete_by_doctor(appointment=checked_in, actor=doctor_a)
    assert changed and done.status == AppointmentStatus.COMPLETED
    kinds = list(done.events.order_by("pk").values_list("to_status", flat=True))
    assert kinds.count(AppointmentStatus.CHECKED_IN) == 1
    assert visit_complete_by_doctor(appointment=done, actor=doctor_a) == (done, False)
