"""Fixtures of the assistant suites: a frozen clock, a therapist who can be booked online in
clinic A, and helpers that talk to the engine as a caller."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.assistant.tools import Caller
from crm.choices import ConversationChannel
from crm.services.assistant import conversation_message, conversation_start
from tests.factories import DoctorFactory, ServiceFactory, SpecialtyFactory, make_weekly_schedule
from tests.notifications.test_inbound import anna, linked, providers  # noqa: F401
from tests.scheduling.conftest import T0, Clock


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)  # Monday 1 March 2027, 08:00 in Irkutsk
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def therapist(clinic_a):
    """A therapist in clinic A, 09:00–13:00 Irkutsk time every day, 30-minute visits."""
    specialty = SpecialtyFactory(slug="therapist", name="Терапевт")
    service = ServiceFactory(name="Приём терапевта первичный", specialty=specialty)
    doctor = DoctorFactory(
        last_name="Петрова", first_name="Ольга", services=[service], clinics=[clinic_a]
    )
    make_weekly_schedule(doctor, clinic_a)
    return doctor


class Chat:
    """A conversation driven message by message, as one caller."""

    def __init__(self, *, user=None, patient=None, channel=ConversationChannel.WIDGET):
        self.caller = Caller(user=user, patient=patient)
        self.conversation = conversation_start(
            channel=channel, caller=self.caller, token="" if patient else "browser-token"
        )
        self.last = None

    def say(self, text: str, language: str | None = None):
        self.last = conversation_message(
            conversation=self.conversation, text=text, caller=self.caller, language=language
        )
        self.conversation = self.last.conversation
        return self.last


@pytest.fixture
def chat_as():
    def make(user=None, **kwargs):
        patient = getattr(user, "patient", None) if user is not None else None
        return Chat(user=user, patient=patient, **kwargs)

    return make
