"""An unhappy patient is handed over with that reason: complaint or frustration words in
Russian or English, or the same words written again after an answer that missed them."""

from __future__ import annotations

import pytest

from crm.choices import ConversationStatus, HandoffReason

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "words",
    [
        "Это безобразие, хочу оставить жалобу",
        "надоело, опять не то",
        "This is useless, I want to file a complaint",
        "You don't understand me at all",
    ],
)
def test_frustration_hands_the_conversation_over_as_unhappy(clock, patient, chat_as, words):
    chat = chat_as(patient.user)
    reply = chat.say(words)
    assert reply.intent == "handoff" and reply.actions == ["handed_over"]
    chat.conversation.refresh_from_db()
    assert chat.conversation.status == ConversationStatus.HANDED_OVER
    assert chat.conversation.handoff_reason == HandoffReason.UNHAPPY
    assert chat.conversation.sla_due_at is not None


def test_a_complaint_in_the_middle_of_a_booking_is_handed_over(clock, therapist, patient, chat_as):
    chat = chat_as(patient.user)
    chat.say("Запишите меня к терапевту завтра утром")
    reply = chat.say("ужасно, ни одно время не подходит")
    assert reply.intent == "handoff"
    chat.conversation.refresh_from_db()
    assert chat.conversation.handoff_reason == HandoffReason.UNHAPPY


def test_the_same_words_written_again_after_a_miss_are_handed_over(clock, patient, chat_as):
    chat = chat_as(patient.user)
    asked = chat.say("Я хочу записаться")
    assert asked.intent == "book" and asked.actions == []
    again = chat.say("Я хочу  записаться!")
    assert again.intent == "handoff"
    chat.conversation.refresh_from_db()
    assert chat.conversation.handoff_reason == HandoffReason.UNHAPPY
    # The state keeps a keyed digest, never the words.
    assert "записаться" not in str(chat.conversation.state)


def test_the_same_question_answered_each_time_is_not_a_miss(clock, therapist, patient, chat_as):
    chat = chat_as(patient.user)
    chat.say("Сколько стоит приём терапевта")
    again = chat.say("Сколько стоит приём терапевта")
    assert again.intent == "price"
    chat.conversation.refresh_from_db()
    assert chat.conversation.status == ConversationStatus.OPEN


def test_asking_for_a_person_keeps_its_own_reason(clock, patient, chat_as):
    chat = chat_as(patient.user)
    chat.say("Позовите оператора")
    chat.conversation.refresh_from_db()
    assert chat.conversation.handoff_reason == HandoffReason.ASKED


def test_the_operator_inbox_shows_the_unhappy_reason(clock, patient, registrar_a, chat_as, as_user):
    chat = chat_as(patient.user)
    chat.say("Это безобразие, хочу оставить жалобу")
    client = as_user(registrar_a)
    listing = client.get("/crm/inbox/").content.decode()
    assert "Недовольный пациент" in listing
    page = client.get(f"/crm/inbox/{chat.conversation.public_id}/").content.decode()
    assert "Недовольный пациент" in page and "безобразие" in page
