"""The retention purge keeps per-day counts of what it deletes, incrementally and idempotently."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.choices import DeliveryStatus, MessageStatus
from notifications.models import MessageDailyCount, OutboxMessage
from notifications.retention import outbox_purge_counted
from notifications.tasks import purge_old_messages

pytestmark = pytest.mark.django_db


def aged(days, *, clinic=None, status=MessageStatus.SENT, channel="sms", **fields):
    message = OutboxMessage.objects.create(
        event=fields.pop("event", "appointment.booked"),
        channel=channel,
        clinic=clinic,
        to_address="+79140001234",
        status=status,
        due_at=timezone.now(),
        **fields,
    )
    created = timezone.now() - datetime.timedelta(days=days)
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=created)
    return message


def counts():
    return {
        (c.date, c.clinic_id, c.channel, c.event, c.status): c.count
        for c in MessageDailyCount.objects.all()
    }


def test_it_counts_per_day_clinic_channel_event_and_state_before_deleting(clinic_a, clinic_b):
    day = (timezone.now() - datetime.timedelta(days=100)).date()
    for _ in range(3):
        aged(100, clinic=clinic_a, delivery_status=DeliveryStatus.DELIVERED)
    aged(100, clinic=clinic_a, status=MessageStatus.FAILED)
    aged(100, clinic=clinic_b)
    aged(100, channel="email", event="auth.login_code")
    kept = [
        aged(10, clinic=clinic_a),  # recent
        aged(100, clinic=clinic_a, status=MessageStatus.PENDING),  # still in flight
    ]
    assert outbox_purge_counted(days=90, batch=2) == 6
    assert counts() == {
        (day, clinic_a.pk, "sms", "appointment.booked", "delivered"): 3,
        (day, clinic_a.pk, "sms", "appointment.booked", "failed"): 1,
        (day, clinic_b.pk, "sms", "appointment.booked", "sent"): 1,
        (day, None, "email", "auth.login_code", "sent"): 1,
    }
    assert set(OutboxMessage.objects.all()) == set(kept)


def test_a_second_run_counts_nothing_twice_and_later_runs_add_up(clinic_a):
    day = (timezone.now() - datetime.timedelta(days=95)).date()
    aged(95, clinic=clinic_a)
    aged(95)
    outbox_purge_counted(days=90)
    assert outbox_purge_counted(days=90) == 0
    assert sum(counts().values()) == 2
    # A message of the same day purged later (it was still in flight) adds to its row.
    late = aged(95, clinic=clinic_a, status=MessageStatus.PENDING)
    OutboxMessage.objects.filter(pk=late.pk).update(status=MessageStatus.CANCELLED)
    aged(95, clinic=clinic_a)
    outbox_purge_counted(days=90)
    assert counts()[(day, clinic_a.pk, "sms", "appointment.booked", "sent")] == 2
    assert counts()[(day, clinic_a.pk, "sms", "appointment.booked", "cancelled")] == 1
    assert counts()[(day, None, "sms", "appointment.booked", "sent")] == 1


@override_settings(OUTBOX_RETENTION_DAYS=30)
def test_the_periodic_task_uses_the_retention_setting(clinic_a):
    aged(40, clinic=clinic_a)
    aged(20, clinic=clinic_a)
    purge_old_messages.delay()
    assert OutboxMessage.objects.count() == 1
    assert sum(counts().values()) == 1
