"""A dependant's messages: their own phone, e-mail or chat where they have one, else their
guardian's; a STOP or a YES from the guardian's phone or chat acts for them too."""

import datetime

import pytest
from django.utils import timezone

from notifications.inbound import inbound_receive
from notifications.services import NoAddress, outbox_enqueue, prefer_messenger
from portal.models import ContactPreference, MessengerLink
from portal.models.contact import chat_index
from portal.selectors.contact import (
    contact_address,
    contact_overview,
    dependants_reached_through,
    has_messenger_chat,
    message_guardian,
    messenger_chat_for,
    patients_out_of_reach,
)
from scheduling.services.reminders import reminder_channel
from tests.factories import FamilyLinkFactory, PatientFactory, PatientWithLoginFactory

pytestmark = pytest.mark.django_db

PARENT_PHONE = "+79161112233"


def link_chat(patient, chat):
    MessengerLink.objects.create(patient=patient, chat_id=chat, chat_bidx=chat_index(chat))


@pytest.fixture
def parent():
    return PatientWithLoginFactory(phone=PARENT_PHONE, email="parent@example.test")


@pytest.fixture
def child(parent):
    child = PatientFactory(phone="", email="", birth_date=datetime.date(2016, 1, 5))
    FamilyLinkFactory(guardian=parent, dependant=child)
    return child


def test_a_child_without_addresses_is_written_to_at_the_guardians(parent, child):
    assert message_guardian(child) == parent
    assert contact_address(child, "sms") == PARENT_PHONE
    assert contact_address(child, "email") == "parent@example.test"
    message = outbox_enqueue(event="appointment.booked", channel="sms", patient=child, context={})
    assert message.to_address == PARENT_PHONE and message.patient == child


def test_a_dependants_own_address_comes_first(parent, child):
    child.phone = "+79035554433"
    child.save()
    assert contact_address(child, "sms") == "+79035554433"
    assert contact_address(child, "email") == "parent@example.test"  # none of their own
    assert contact_address(parent, "sms") == PARENT_PHONE


def test_someone_who_is_nobodys_dependant_has_only_their_own():
    alone = PatientFactory(phone="", email="")
    assert message_guardian(alone) is None
    assert contact_address(alone, "sms") == "" and messenger_chat_for(alone) == ""
    assert not has_messenger_chat(alone)
    with pytest.raises(NoAddress):
        outbox_enqueue(event="appointment.booked", channel="sms", patient=alone, context={})


def test_an_expired_link_no_longer_carries_messages(parent, child):
    child.guardian_links.update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert message_guardian(child) is None and contact_address(child, "sms") == ""


def test_the_oldest_valid_link_names_the_guardian(parent, child):
    second = PatientFactory(phone="+79260001122")
    FamilyLinkFactory(guardian=second, dependant=child)
    assert message_guardian(child) == parent


def test_the_guardians_chat_carries_the_childs_visit_messages(parent, child):
    assert not has_messenger_chat(child)
    link_chat(parent, "5151")
    assert messenger_chat_for(child) == "5151"
    assert has_messenger_chat(child) and has_messenger_chat(parent)
    assert prefer_messenger(patient=child, channels=("sms", "email")) == ("messenger", "email")
    assert reminder_channel(child) == "messenger"
    link_chat(child, "6161")
    assert messenger_chat_for(child) == "6161"


def test_the_dependants_own_settings_decide_what_goes(parent, child):
    ContactPreference.objects.create(patient=child, channel="sms", care=False)
    assert reminder_channel(child) == "email"
    ContactPreference.objects.create(patient=child, channel="email", care=False)
    assert reminder_channel(child) is None


def test_a_stop_from_the_guardians_phone_stops_the_childs_sms_too(parent, child):
    result = inbound_receive(
        provider="smsru", channel="sms", external_id="in-1", sender=PARENT_PHONE, text="СТОП"
    )
    assert result is not None and result.patients == [parent, child]
    stopped = ContactPreference.objects.filter(channel="sms", stopped_at__isnull=False)
    assert set(stopped.values_list("patient", flat=True)) == {parent.pk, child.pk}
    with pytest.raises(NoAddress):
        outbox_enqueue(event="appointment.booked", channel="sms", patient=child, context={})


def test_only_dependants_without_their_own_address_are_reached_through_a_guardian(parent, child):
    grown = PatientFactory(phone="+79031234567")
    FamilyLinkFactory(guardian=parent, dependant=grown)
    assert dependants_reached_through([parent], "sms") == [child]
    assert dependants_reached_through([parent], "email") == []
    assert dependants_reached_through([], "sms") == []
    link_chat(grown, "777")
    assert dependants_reached_through([parent], "messenger") == [child]


def test_the_overview_names_the_guardian_whose_address_it_is(parent, child):
    link_chat(parent, "5151")
    lines = {line.channel: line for line in contact_overview(patient=child).lines}
    assert lines["sms"].address == PARENT_PHONE and lines["sms"].via == parent
    assert lines["messenger"].via == parent and lines["email"].via == parent
    own = {line.channel: line for line in contact_overview(patient=parent).lines}
    assert own["sms"].via is None and own["sms"].address == PARENT_PHONE


def test_out_of_reach_are_those_without_an_address_that_takes_visit_messages(parent, child):
    nobody = PatientFactory(phone="", email="")
    landline = PatientFactory(phone="+74952000000", email="")
    chat_only = PatientFactory(phone="", email="")
    link_chat(chat_only, "8001")
    email_off = PatientFactory(phone="")
    ContactPreference.objects.create(patient=email_off, channel="email", care=False)
    stopped = PatientFactory(email="")
    ContactPreference.objects.create(patient=stopped, channel="sms", stopped_at=timezone.now())
    reachable = PatientFactory()
    people = [nobody, landline, chat_only, email_off, stopped, reachable, child]
    assert patients_out_of_reach(people) == {nobody.pk, landline.pk, email_off.pk, stopped.pk}
    assert patients_out_of_reach([]) == set()


def test_a_dependant_is_reached_at_the_guardians_chat_not_through_a_lapsed_link(parent):
    child = PatientFactory(phone="", email="")
    FamilyLinkFactory(guardian=PatientFactory(phone="", email=""), dependant=child)
    assert patients_out_of_reach([child]) == {child.pk}
    other = PatientFactory(phone="", email="")
    chatty = PatientFactory(phone="", email="")
    link_chat(chatty, "8002")
    FamilyLinkFactory(guardian=chatty, dependant=other)
    assert patients_out_of_reach([other]) == set()
    lapsed = PatientFactory(phone="", email="")
    FamilyLinkFactory(
        guardian=parent, dependant=lapsed, valid_until=timezone.localdate() - datetime.timedelta(1)
    )
    assert patients_out_of_reach([lapsed]) == {lapsed.pk}


def test_only_the_chat_of_a_guardian_whose_link_holds_counts(parent, child):
    """`has_messenger_chat` answers as `messenger_chat_for` does: an own chat, else that of
    the guardian of the oldest link still valid (not anonymised)."""
    other = PatientWithLoginFactory()
    FamilyLinkFactory(guardian=other, dependant=child)
    link_chat(other, "7171")
    # The oldest valid link names `parent`, who has no chat.
    assert messenger_chat_for(child) == "" and not has_messenger_chat(child)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    child.guardian_links.filter(guardian=parent).update(valid_until=yesterday)
    assert messenger_chat_for(child) == "7171" and has_messenger_chat(child)
    other.anonymised_at = timezone.now()
    other.save(update_fields=["anonymised_at"])
    assert messenger_chat_for(child) == "" and not has_messenger_chat(child)
    link_chat(child, "8181")
    assert messenger_chat_for(child) == "8181" and has_messenger_chat(child)
