"""The same engine behind Telegram and inbound SMS; operators answer there through the outbox."""

from __future__ import annotations

import pytest

from crm.choices import ConversationChannel, ConversationStatus
from crm.models import Conversation
from crm.services.assistant import conversation_operator_reply
from notifications.models import OutboxMessage
from notifications.rendering import render_message
from scheduling.models import Appointment
from tests.notifications.test_inbound import telegram, twilio_sms

pytestmark = pytest.mark.django_db


def answers():
    return list(OutboxMessage.objects.filter(event="inbound.assistant").order_by("pk"))


def test_a_telegram_dialogue_books_a_visit(clock, therapist, linked):
    telegram("Запишите меня к терапевту завтра утром")
    [offer] = answers()
    assert offer.channel == "messenger"
    assert "1." in render_message(offer)[1]
    telegram("первый")
    telegram("да")
    visit = Appointment.objects.get()
    assert visit.patient == linked
    conversation = Conversation.objects.get()
    assert conversation.channel == ConversationChannel.TELEGRAM
    assert conversation.booked_appointment == visit
    assert "Готово" in render_message(answers()[-1])[1]


def test_free_sms_text_is_answered_by_the_assistant(clock, anna):
    twilio_sms("Сколько стоит приём?")
    [answer] = answers()
    assert answer.channel == "sms"
    assert Conversation.objects.get().channel == ConversationChannel.SMS


def test_keywords_still_go_to_their_own_handlers(clock, anna):
    twilio_sms("STOP")
    assert answers() == []
    assert not Conversation.objects.exists()


def test_an_operator_answers_a_telegram_conversation_through_the_outbox(clock, linked, registrar_a):
    telegram("Позовите оператора")
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.HANDED_OVER
    conversation_operator_reply(
        conversation=conversation, operator=registrar_a, text="Здравствуйте, чем помочь?"
    )
    last = answers()[-1]
    assert last.channel == "messenger" and last.patient == linked
    assert render_message(last)[1] == "Здравствуйте, чем помочь?"
