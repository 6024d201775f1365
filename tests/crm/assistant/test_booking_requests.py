"""Where a clinic books on request, the dialogue leaves a booking request (the request-mode
service) instead of offering a callback; an anonymous visitor's goes to the clinic as a lead."""

from __future__ import annotations

import pytest

from crm.models import Lead
from scheduling.choices import BookingMode, BookingRequestSource, BookingRequestStatus
from scheduling.models import BookingPolicy, BookingRequest
from tests.factories import DoctorFactory, ServiceFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_request(clinic_a, therapist):
    return BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)


def test_a_patient_leaves_a_booking_request_in_the_dialogue(
    clock, on_request, therapist, patient, clinic_a, chat_as
):
    chat = chat_as(patient.user)
    offered = chat.say("Запишите меня к терапевту завтра утром")
    assert offered.offers == [] and "заявк" in offered.reply
    assert not BookingRequest.objects.exists()
    done = chat.say("да")
    assert done.actions == ["request_left"] and done.intent == "book"
    request = BookingRequest.objects.get()
    assert request.patient == patient and request.clinic == clinic_a
    assert request.service == therapist.services.get()
    assert request.source == BookingRequestSource.ASSISTANT
    assert request.status == BookingRequestStatus.OPEN
    assert request.windows == [{"from": "2027-03-02", "to": "2027-03-02", "part": "morning"}]
    chat.conversation.refresh_from_db()
    assert chat.conversation.resolved_without_operator is True


def test_no_request_is_left_without_a_yes(clock, on_request, therapist, patient, chat_as):
    chat = chat_as(patient.user)
    chat.say("Запишите меня к терапевту завтра")
    chat.say("нет")
    assert not BookingRequest.objects.exists()


def test_a_second_request_for_the_same_is_refused_clearly(
    clock, on_request, therapist, patient, chat_as
):
    chat = chat_as(patient.user)
    chat.say("Запишите меня к терапевту завтра")
    chat.say("да")
    chat.say("Запишите меня к терапевту послезавтра")
    again = chat.say("да")
    assert "уже" in again.reply and again.actions == []
    assert BookingRequest.objects.count() == 1


def test_an_anonymous_visitors_request_reaches_the_clinic_as_a_lead(
    clock, on_request, therapist, clinic_a, chat_as
):
    chat = chat_as(None)
    chat.say("Запишите меня к терапевту завтра утром")
    asked = chat.say("да")
    assert "телефон" in asked.reply and not BookingRequest.objects.exists()
    done = chat.say("+7 914 123-45-67")
    assert done.actions == ["callback_requested"]
    lead = Lead.objects.get()
    assert lead.clinic == clinic_a
    assert "Приём терапевта первичный" in lead.comment and "2027-03-02" in lead.comment
    assert not BookingRequest.objects.exists()


def test_a_clinic_that_books_directly_still_offers_a_callback(clock, patient, clinic_a, chat_as):
    specialty = SpecialtyFactory(slug="therapist", name="Терапевт")
    service = ServiceFactory(name="Приём терапевта первичный", specialty=specialty)
    DoctorFactory(services=[service], clinics=[clinic_a])  # no schedule: no free time
    reply = chat_as(patient.user).say("Запишите меня к терапевту завтра")
    assert "перезвонит" in reply.reply and "заявк" not in reply.reply
    assert not BookingRequest.objects.exists()
