"""Closures of rooms and equipment: the engine neither offers nor books what needs a closed
resource; the visits booked in the closed time are listed and handed to the desk; lifting a
closure opens the time again."""

import datetime

import pytest

from portal.models import AuditEvent
from scheduling.choices import AppointmentStatus, RebookReason
from scheduling.errors import InvalidInput, SlotTaken
from scheduling.models import RebookTask, ResourceClosure
from scheduling.selectors.availability import free_slots
from scheduling.selectors.closures import closure_affected
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from scheduling.services.closures import (
    MAX_REASON_LENGTH,
    resource_closure_create,
    resource_closure_hand_over,
    resource_closure_lift,
)
from scheduling.services.holds import hold_create
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    PatientFactory,
    RoomFactory,
    ServiceFactory,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


@pytest.fixture
def scan(clinic_a):
    """An ultrasound scan: needs an ultrasound room and a probe; one doctor does it."""
    service = ServiceFactory(room_kind="ultrasound", duration_minutes=30)
    probe = EquipmentTypeFactory()
    service.equipment_types.add(probe)
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)
    return service, doctor


@pytest.fixture
def room(clinic_a):
    return RoomFactory(clinic=clinic_a, kind="ultrasound", name="УЗИ-1")


@pytest.fixture
def probe(clinic_a, scan):
    return EquipmentFactory(clinic=clinic_a, type=scan[0].equipment_types.get(), name="Датчик")


def starts(service, doctor, day=TUE, channel="phone"):
    return [
        s.start.astimezone(datetime.UTC)
        for s in free_slots(
            service=service, doctor=doctor, channel=channel, start_date=day, end_date=day
        )
    ]


def book(service, doctor, start):
    return appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=start,
        channel="phone",
        actor=None,
    )


def close(clinic, *, room=None, equipment=None, first, last, actor=None, reason="Ремонт"):
    return resource_closure_create(
        clinic=clinic,
        room=room,
        equipment=equipment,
        starts_at=first,
        ends_at=last,
        reason=reason,
        actor=actor,
    )


def test_a_closed_room_offers_and_books_no_slot_while_closed(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    ten, eleven = local(clinic_a, 2027, 3, 2, 10), local(clinic_a, 2027, 3, 2, 11)
    before = starts(service, doctor)
    close(clinic_a, room=room, first=ten, last=eleven, actor=head_nurse_a)
    after = starts(service, doctor)
    assert [s for s in before if not ten <= s < eleven] == after
    with pytest.raises(SlotTaken) as err:
        book(service, doctor, ten)
    assert err.value.code == "room_taken"
    with pytest.raises(SlotTaken):
        hold_create(service=service, doctor=doctor, start=ten, channel="online", actor=None)
    # The closure ends at 11:00: the visit at 11:00 is bookable.
    assert book(service, doctor, eleven).room == room


def test_a_closed_device_blocks_the_slots_that_need_it(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    ten = local(clinic_a, 2027, 3, 2, 10)
    close(clinic_a, equipment=probe, first=ten, last=ten + datetime.timedelta(minutes=30))
    assert ten.astimezone(datetime.UTC) not in starts(service, doctor)
    with pytest.raises(SlotTaken) as err:
        book(service, doctor, ten)
    assert err.value.code == "equipment_taken"


def test_a_closed_own_room_of_the_rule_blocks_its_doctor(clock, clinic_a, service, head_nurse_a):
    cabinet = RoomFactory(clinic=clinic_a, name="Кабинет 7")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, room=cabinet)
    nine = local(clinic_a, 2027, 3, 2, 9)
    close(clinic_a, room=cabinet, first=nine, last=local(clinic_a, 2027, 3, 2, 13))
    assert starts(service, doctor) == []
    assert starts(service, doctor, day=datetime.date(2027, 3, 3)) != []


def test_moving_a_visit_into_closed_time_is_refused(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    visit = book(service, doctor, local(clinic_a, 2027, 3, 2, 9))
    ten = local(clinic_a, 2027, 3, 2, 10)
    close(clinic_a, room=room, first=ten, last=local(clinic_a, 2027, 3, 2, 12))
    with pytest.raises(SlotTaken):
        appointment_reschedule(appointment=visit, start=ten, actor=head_nurse_a)


def test_closing_lists_the_affected_visits_and_hands_them_to_the_desk(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    nine = book(service, doctor, local(clinic_a, 2027, 3, 2, 9))
    ten = book(service, doctor, local(clinic_a, 2027, 3, 2, 10))
    half_past = book(service, doctor, local(clinic_a, 2027, 3, 2, 10, 30))
    cancelled = book(service, doctor, local(clinic_a, 2027, 3, 2, 11))
    appointment_cancel(appointment=cancelled, actor=None, reason="")
    later = book(service, doctor, local(clinic_a, 2027, 3, 2, 12))
    closure, tasks = close(
        clinic_a,
        room=room,
        first=local(clinic_a, 2027, 3, 2, 10),
        last=local(clinic_a, 2027, 3, 2, 12),
        actor=head_nurse_a,
    )
    assert closure_affected(closure=closure, now=clock.now) == [ten, half_past]
    assert [t.appointment for t in tasks] == [ten, half_past]
    task = tasks[0]
    assert (task.reason, task.created_by) == (RebookReason.CLOSURE, head_nurse_a)
    assert task.detail == "УЗИ-1 закрыт: Ремонт"  # in the language of the one who closed it
    assert not RebookTask.objects.filter(appointment__in=[nine, cancelled, later]).exists()
    # Handing over again opens nothing new.
    assert resource_closure_hand_over(closure=closure, actor=head_nurse_a) == []
    assert AuditEvent.objects.filter(object_type="scheduling.resourceclosure").count() == 1


def test_a_closure_of_a_device_finds_visits_through_the_device(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    visit = book(service, doctor, local(clinic_a, 2027, 3, 2, 10))
    _closure, tasks = close(
        clinic_a,
        equipment=probe,
        first=local(clinic_a, 2027, 3, 2, 9),
        last=local(clinic_a, 2027, 3, 2, 13),
    )
    assert [t.appointment for t in tasks] == [visit]


def test_a_closure_under_way_affects_only_visits_still_ahead(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    nine = book(service, doctor, local(clinic_a, 2027, 3, 2, 9))
    eleven = book(service, doctor, local(clinic_a, 2027, 3, 2, 11))
    closure, _tasks = close(
        clinic_a,
        room=room,
        first=local(clinic_a, 2027, 3, 2, 9),
        last=local(clinic_a, 2027, 3, 2, 13),
    )
    clock.now = local(clinic_a, 2027, 3, 2, 10).astimezone(datetime.UTC)
    assert closure_affected(closure=closure, now=clock.now) == [eleven]
    assert nine.status == AppointmentStatus.BOOKED
    clock.now = local(clinic_a, 2027, 3, 2, 14).astimezone(datetime.UTC)
    assert closure_affected(closure=closure, now=clock.now) == []


def test_lifting_opens_the_time_at_once_and_keeps_the_tasks(
    clock, clinic_a, scan, room, probe, head_nurse_a
):
    service, doctor = scan
    visit = book(service, doctor, local(clinic_a, 2027, 3, 2, 10))
    ten, noon = local(clinic_a, 2027, 3, 2, 10), local(clinic_a, 2027, 3, 2, 12)
    closure, _tasks = close(clinic_a, room=room, first=ten, last=noon, actor=head_nurse_a)
    half_past = local(clinic_a, 2027, 3, 2, 10, 30).astimezone(datetime.UTC)
    assert half_past not in starts(service, doctor)
    lifted = resource_closure_lift(closure=closure, actor=head_nurse_a)
    assert lifted.lifted_by == head_nurse_a
    assert lifted.ends_at == noon
    assert half_past in starts(service, doctor)
    assert closure_affected(closure=lifted, now=clock.now) == []
    assert resource_closure_hand_over(closure=lifted, actor=head_nurse_a) == []
    assert RebookTask.objects.get().appointment == visit
    # Lifting twice changes nothing.
    assert resource_closure_lift(closure=lifted, actor=None).lifted_by == head_nurse_a
    assert AuditEvent.objects.filter(object_type="scheduling.resourceclosure").count() == 2


def test_a_closure_that_is_over_cannot_be_lifted(clock, clinic_a, room):
    closure, _tasks = close(
        clinic_a,
        room=room,
        first=local(clinic_a, 2027, 3, 2, 9),
        last=local(clinic_a, 2027, 3, 2, 10),
    )
    clock.now = local(clinic_a, 2027, 3, 2, 11).astimezone(datetime.UTC)
    with pytest.raises(InvalidInput) as err:
        resource_closure_lift(closure=closure, actor=None)
    assert err.value.code == "over"


def test_it_refuses_bad_closures_and_writes_nothing(clock, clinic_a, clinic_b, room, probe):
    tue9, tue10 = local(clinic_a, 2027, 3, 2, 9), local(clinic_a, 2027, 3, 2, 10)
    foreign = RoomFactory(clinic=clinic_b)
    cases = [
        ({"first": tue9, "last": tue10}, "resource"),
        ({"room": room, "equipment": probe, "first": tue9, "last": tue10}, "resource"),
        ({"room": foreign, "first": tue9, "last": tue10}, "other_clinic"),
        ({"room": room, "first": tue9.replace(tzinfo=None), "last": tue10}, "naive"),
        ({"room": room, "first": tue9, "last": "tomorrow"}, "naive"),
        ({"room": room, "first": tue10, "last": tue9}, "ends_before_start"),
        (
            {
                "room": room,
                "first": local(clinic_a, 2027, 2, 1, 9),
                "last": local(clinic_a, 2027, 2, 2, 9),
            },
            "in_the_past",
        ),
        ({"room": room, "first": tue9, "last": tue9 + datetime.timedelta(days=400)}, "too_long"),
        ({"room": room, "first": tue9, "last": tue10, "reason": "   "}, "reason"),
        (
            {"room": room, "first": tue9, "last": tue10, "reason": "x" * (MAX_REASON_LENGTH + 1)},
            "reason",
        ),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidInput) as err:
            close(clinic_a, **kwargs)
        assert err.value.code == code, kwargs
    assert not ResourceClosure.objects.exists()


def test_closures_of_one_resource_do_not_overlap(clock, clinic_a, room):
    tue9, tue11 = local(clinic_a, 2027, 3, 2, 9), local(clinic_a, 2027, 3, 2, 11)
    first, _tasks = close(clinic_a, room=room, first=tue9, last=tue11)
    with pytest.raises(InvalidInput) as err:
        close(clinic_a, room=room, first=tue9 + datetime.timedelta(hours=1), last=tue11)
    assert err.value.code == "overlap"
    # Back to back is fine, and a lifted closure no longer stands in the way.
    close(clinic_a, room=room, first=tue11, last=tue11 + datetime.timedelta(hours=1))
    resource_closure_lift(closure=first, actor=None)
    close(clinic_a, room=room, first=tue9, last=tue11)
    assert ResourceClosure.objects.count() == 3


def test_closures_cost_the_engine_no_query(
    clock, clinic_a, scan, room, probe, django_assert_num_queries
):
    service, doctor = scan
    with django_assert_num_queries(10) as plain:
        starts(service, doctor)
    close(
        clinic_a,
        room=room,
        first=local(clinic_a, 2027, 3, 2, 10),
        last=local(clinic_a, 2027, 3, 2, 11),
    )
    close(
        clinic_a,
        equipment=probe,
        first=local(clinic_a, 2027, 3, 2, 12),
        last=local(clinic_a, 2027, 3, 2, 13),
    )
    with django_assert_num_queries(len(plain.captured_queries)):
        assert len(starts(service, doctor)) == 4
