"""Acceptance with a real worker: reminders across a DST change go out at the clinic's local
times, once each.

A visit in Berlin at 09:00 on 25 October 2026, the day clocks went back (CEST, UTC+2 → CET,
UTC+1). The reminder service records its reminders as the periodic task would at their time;
a `celery worker` process on Redis and PostgreSQL (the helpers of `test_worker_crash`) sends
them. The 24-hour one is due 24 hours earlier (10:00 CEST); the 2-hour one (07:00 CET, before
the contact hours) waits for 08:00 **CET**, not 08:00 on the offset of the day before.
Skipped without REDIS_URL or PostgreSQL.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone

from notifications.choices import MessageStatus
from notifications.models import OutboxMessage
from scheduling.choices import AppointmentChannel
from scheduling.services.booking import appointment_book
from scheduling.services.reminders import REMINDER_EVENT, reminders_enqueue_due
from tests.factories import ClinicFactory, DoctorFactory, ServiceFactory, make_weekly_schedule
from tests.notifications.test_worker_crash import REDIS_URL, Worker, delivered, queue, wait_for
from tests.scheduling.conftest import Clock

__all__ = ["queue"]  # the fixture, used by name

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis broker (REDIS_URL)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.django_db(transaction=True)
def test_reminders_fire_at_the_local_times_across_a_dst_change(
    queue, tmp_path, patient, monkeypatch
):
    from notifications.tasks import dispatch_bulk_messages

    clinic = ClinicFactory(slug="berlin", name="Medfront Berlin", timezone="Europe/Berlin")
    service = ServiceFactory(name="Приём терапевта", duration_minutes=30)
    doctor = DoctorFactory(services=[service], clinics=[clinic])
    make_weekly_schedule(doctor, clinic)
    clock = Clock(datetime.datetime(2026, 10, 20, 10, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", clock)
    start = datetime.datetime(2026, 10, 25, 9, 0, tzinfo=BERLIN)
    assert start.utcoffset() == datetime.timedelta(hours=1)  # CET, after the change
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    # The periodic task's runs just after each reminder's time.
    assert reminders_enqueue_due(now=datetime.datetime(2026, 10, 24, 8, 1, tzinfo=UTC)) == 1
    assert reminders_enqueue_due(now=datetime.datetime(2026, 10, 25, 7, 1, tzinfo=UTC)) == 1
    reminders = OutboxMessage.objects.filter(event=REMINDER_EVENT, patient=patient)
    due = sorted(m.due_at.astimezone(BERLIN) for m in reminders)
    assert due == [
        datetime.datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN),  # CEST: 24 h before
        datetime.datetime(2026, 10, 25, 8, 0, tzinfo=BERLIN),  # CET: contact hours open
    ]
    assert [d.utcoffset() for d in due] == [
        datetime.timedelta(hours=2),
        datetime.timedelta(hours=1),
    ]

    log = tmp_path / "deliveries.jsonl"
    worker = Worker(queue=queue, log=log, output=tmp_path / "worker.log")
    try:
        # The beat's bulk dispatch, to this test's queue; the reminders' times have long passed.
        wait_for(
            lambda: not reminders.exclude(status=MessageStatus.SENT).exists(),
            timeout=90,
            every=lambda: dispatch_bulk_messages.apply_async(queue=queue),
            why="both reminders are sent",
        )
    finally:
        worker.stop()

    sent = list(reminders.all())  # afresh: the queryset above cached the rows as recorded
    # The log holds the booking's confirmations too; each delivery once.
    logged = delivered(log)
    assert {str(m.public_id) for m in sent} <= set(logged)
    assert len(logged) == len(set(logged))
    assert [(m.attempts, m.last_error) for m in sent] == [(1, "")] * 2
    # The worker wrote the visit's time in the clinic's zone on its new offset.
    for message in sent:
        assert "25 октября 2026 г. 9:00" in message.body, message.body
    assert {m.context["appointment_id"] for m in sent} == {str(appointment.public_id)}
