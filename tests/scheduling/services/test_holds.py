import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from scheduling.errors import HoldInvalid, InvalidInput, NotAllowed, SlotTaken
from scheduling.models import Appointment, Hold, Occupancy
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.holds import hold_claim, hold_create, hold_release, holds_purge_expired
from tests.scheduling.conftest import local


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


def hold(patient, doctor, service, start, actor=None):
    return hold_create(
        doctor=doctor,
        service=service,
        start=start,
        channel="online",
        actor=actor or patient.user,
        patient=patient,
    )


def test_a_hold_keeps_the_slot_from_others_until_it_expires(
    clock, doctor, service, patient, other_patient, tue9
):
    held = hold(patient, doctor, service, tue9)
    assert held.expires_at == clock.now + datetime.timedelta(minutes=10)
    day = tue9.date()
    assert tue9 not in {
        s.start for s in free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    }
    with pytest.raises(SlotTaken):
        appointment_book(
            patient=other_patient,
            doctor=doctor,
            service=service,
            start=tue9,
            channel="online",
            actor=other_patient.user,
        )
    clock.advance(minutes=11)
    assert tue9 in {
        s.start for s in free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    }
    # The expired hold is cleared inside the booking transaction.
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=tue9,
        channel="online",
        actor=other_patient.user,
    )
    assert not Hold.objects.exists()


def test_the_holder_books_through_the_hold(clock, doctor, service, patient, tue9):
    held = hold(patient, doctor, service, tue9)
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=tue9,
        channel="online",
        actor=patient.user,
        hold=held,
    )
    assert not Hold.objects.exists()
    assert Occupancy.objects.filter(appointment=appointment).count() == 1


def test_a_hold_is_personal_and_for_one_slot(clock, doctor, service, patient, other_patient, tue9):
    held = hold(patient, doctor, service, tue9)
    with pytest.raises(HoldInvalid):
        appointment_book(
            patient=other_patient,
            doctor=doctor,
            service=service,
            start=tue9,
            channel="online",
            actor=other_patient.user,
            hold=held,
        )
    with pytest.raises(HoldInvalid):
        appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=tue9 + datetime.timedelta(hours=1),
            channel="online",
            actor=patient.user,
            hold=held,
        )
    clock.advance(minutes=30)
    with pytest.raises(HoldInvalid):
        appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=tue9,
            channel="online",
            actor=patient.user,
            hold=held,
        )
    held.delete()
    with pytest.raises(HoldInvalid):
        appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=tue9,
            channel="online",
            actor=patient.user,
            hold=held,
        )
    assert not Appointment.objects.exists()


def test_a_new_hold_replaces_the_actors_previous_one(clock, doctor, service, patient, tue9):
    hold(patient, doctor, service, tue9)
    second = hold(patient, doctor, service, tue9 + datetime.timedelta(hours=1))
    assert list(Hold.objects.all()) == [second]


def test_holds_for_strangers_are_refused(clock, doctor, service, patient, other_patient, tue9):
    with pytest.raises(NotAllowed):
        hold(other_patient, doctor, service, tue9, actor=patient.user)
    with pytest.raises(HoldInvalid):
        hold_release(hold=hold(patient, doctor, service, tue9), actor=other_patient.user)


def test_release_and_purge(clock, doctor, service, patient, other_patient, tue9):
    mine = hold(patient, doctor, service, tue9)
    hold_release(hold=mine, actor=patient.user)
    assert not Occupancy.objects.exists()
    hold(other_patient, doctor, service, tue9)
    assert holds_purge_expired() == 0
    clock.advance(minutes=10)
    assert holds_purge_expired() == 1
    assert not Occupancy.objects.exists()


def test_a_hold_on_an_unknown_channel_is_refused(clock, doctor, service, patient, tue9):
    with pytest.raises(InvalidInput) as err:
        hold_create(
            doctor=doctor,
            service=service,
            start=tue9,
            channel="carrier-pigeon",
            actor=patient.user,
            patient=patient,
        )
    assert err.value.code == "invalid_channel"
    assert not Hold.objects.exists()
    assert not Occupancy.objects.exists()


def test_a_hold_without_a_signed_in_actor_belongs_to_nobody(clock, doctor, service, patient, tue9):
    """A system caller (no user) holds without releasing anyone's holds; anyone may release
    it, and it still keeps the slot."""
    mine = hold(patient, doctor, service, tue9)
    anonymous = hold_create(
        doctor=doctor,
        service=service,
        start=tue9 + datetime.timedelta(hours=1),
        channel="phone",
        actor=AnonymousUser(),
    )
    assert anonymous.created_by is None and anonymous.patient is None
    assert set(Hold.objects.all()) == {mine, anonymous}
    day = tue9.date()
    free = {
        s.start for s in free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    }
    assert tue9 + datetime.timedelta(hours=1) not in free
    hold_release(hold=anonymous, actor=patient.user)
    assert list(Hold.objects.all()) == [mine]


def test_a_hold_made_before_sign_in_is_claimed_once(
    clock, doctor, service, patient, other_patient, tue9
):
    """The browser's anonymous hold becomes the signed-in patient's; then nobody else's."""
    anonymous = hold_create(
        doctor=doctor, service=service, start=tue9, channel="online", actor=AnonymousUser()
    )
    claimed = hold_claim(hold=anonymous, actor=patient.user)
    assert claimed.created_by == patient.user
    assert Hold.objects.get(pk=anonymous.pk).created_by == patient.user
    # Claiming again by the owner changes nothing; by anyone else is refused.
    assert hold_claim(hold=claimed, actor=patient.user).created_by == patient.user
    with pytest.raises(HoldInvalid) as err:
        hold_claim(hold=Hold.objects.get(pk=anonymous.pk), actor=other_patient.user)
    assert err.value.code == "not_your_hold"
    assert Hold.objects.get(pk=anonymous.pk).created_by == patient.user
