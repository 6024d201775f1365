"""The rules the tools keep whatever the dialogue says: only offered slots are booked, the
transcript is kept for its retention only."""

from __future__ import annotations

import datetime

import pytest

from crm.assistant import tools
from crm.choices import TurnAuthor
from crm.models import Turn
from crm.services.assistant import conversations_purge
from scheduling.models import Appointment
from scheduling.slot_ids import make_slot_id

pytestmark = pytest.mark.django_db


def test_a_slot_no_tool_offered_is_refused(clock, therapist, patient, clinic_a, chat_as):
    chat = chat_as(patient.user)
    offered = chat.say("Запишите меня к терапевту завтра утром")
    service = therapist.services.get()
    invented = make_slot_id(
        doctor_public_id=therapist.public_id,
        clinic_public_id=clinic_a.public_id,
        service_public_id=service.public_id,
        start=datetime.datetime(2027, 3, 2, 19, 0, tzinfo=datetime.UTC),  # 03:00 in Irkutsk
    )
    with pytest.raises(tools.SlotNotOffered):
        tools.require_offered(chat.conversation, invented)
    with pytest.raises(tools.SlotNotOffered):
        tools.visit_book(
            conversation=chat.conversation,
            caller=chat.caller,
            slot_id=invented,
            patient=patient,
            hold_id=None,
        )
    tools.require_offered(chat.conversation, offered.offers[0]["id"])
    assert not Appointment.objects.exists()


def test_a_slot_offered_in_another_conversation_is_refused(clock, therapist, patient, chat_as):
    first = chat_as(patient.user)
    offered = first.say("Запишите меня к терапевту завтра утром")
    second = chat_as(patient.user)
    with pytest.raises(tools.SlotNotOffered):
        tools.require_offered(second.conversation, offered.offers[0]["id"])


def test_transcripts_are_purged_after_their_retention(clock, settings, chat_as):
    settings.ASSISTANT_RETENTION_DAYS = 30
    chat = chat_as(None)
    chat.say("Привет")
    assert Turn.objects.filter(author=TurnAuthor.PATIENT).exists()
    assert conversations_purge(now=clock.now + datetime.timedelta(days=29)) == 0
    assert conversations_purge(now=clock.now + datetime.timedelta(days=31)) == 2
    chat.conversation.refresh_from_db()
    assert not chat.conversation.turns.exists()
    assert chat.conversation.session_hash == ""
