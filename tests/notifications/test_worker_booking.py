"""Acceptance with a real worker: a booking's confirmation goes out once.

A `celery worker` process on Redis and the test's PostgreSQL database (the helpers of
`test_worker_crash`); the booking commits in the test, its on-commit nudge travels over the
broker, and the worker sends. Further dispatches (the beat's) find nothing more to send.
Skipped without REDIS_URL or PostgreSQL.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection
from django.utils import timezone

from notifications.choices import MessageStatus
from notifications.models import OutboxMessage
from scheduling.choices import AppointmentChannel
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule
from tests.notifications.test_worker_crash import REDIS_URL, Worker, delivered, queue, wait_for

__all__ = ["queue"]  # the fixture, used by name

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis broker (REDIS_URL)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_a_booking_sends_exactly_one_confirmation(queue, tmp_path, clinic_a, patient):
    from notifications.tasks import dispatch_due_messages

    service = ServiceFactory(name="Приём терапевта", duration_minutes=30)
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a)
    today = timezone.localdate()
    slot = free_slots(
        service=service,
        clinic=clinic_a,
        start_date=today + datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=9),
    )[0]
    log = tmp_path / "deliveries.jsonl"
    worker = Worker(queue=queue, log=log, output=tmp_path / "worker.log")
    try:
        appointment = appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=slot.start,
            channel=AppointmentChannel.ONLINE,
            actor=patient.user,
        )
        messages = OutboxMessage.objects.filter(event="appointment.booked", patient=patient)
        wait_for(
            lambda: messages.exists() and not messages.exclude(status=MessageStatus.SENT).exists(),
            timeout=90,
            why="the confirmation is sent",
        )
        # The beat's dispatches after it: nothing is due, nothing goes again.
        for _ in range(3):
            dispatch_due_messages.delay()
        time.sleep(3)
    finally:
        worker.stop()

    sent = list(messages)
    assert sorted(m.channel for m in sent) == ["email", "sms"]  # one per channel
    assert all(m.attempts == 1 and m.context["appointment_id"] for m in sent)
    assert {m.context["appointment_id"] for m in sent} == {str(appointment.public_id)}
    assert sorted(delivered(log)) == sorted(str(m.public_id) for m in sent)
