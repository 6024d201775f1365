"""Critical and bulk lanes on their own queues, and per-provider rate limits (eager Celery)."""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from config.celery import app
from notifications.choices import Lane, MessageStatus
from notifications.dispatch import outbox_claim_next, outbox_dispatch_due
from notifications.models import OutboxMessage
from notifications.queues import RateLimited, lane_for_event, provider_take
from notifications.services import outbox_enqueue
from notifications.tasks import dispatch_bulk_messages, dispatch_due_messages

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_reminders_and_campaigns_go_in_bulk_everything_else_is_critical():
    assert lane_for_event("appointment.reminder") == Lane.BULK
    assert lane_for_event("campaign.spring_checkup") == Lane.BULK
    for event in ("appointment.booked", "appointment.cancelled", "auth.login_code"):
        assert lane_for_event(event) == Lane.CRITICAL


def test_the_lane_and_the_clinic_are_recorded_with_the_message(patient, clinic_a):
    message = outbox_enqueue(
        event="appointment.reminder", channel="sms", patient=patient, context={}, clinic=clinic_a
    )
    assert (message.lane, message.clinic_id) == (Lane.BULK, clinic_a.pk)


def test_a_confirmation_does_not_wait_behind_a_whole_day_of_reminders(patient):
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    for _ in range(30):
        outbox_enqueue(
            event="appointment.reminder", channel="sms", patient=patient, context={}, due_at=earlier
        )
    confirmation = outbox_enqueue(
        event="appointment.booked", channel="sms", patient=patient, context={"text": "ok"}
    )
    # The critical dispatcher claims the confirmation first although 30 reminders are older.
    assert outbox_claim_next(lane=Lane.CRITICAL).pk == confirmation.pk
    OutboxMessage.objects.filter(pk=confirmation.pk).update(status=MessageStatus.PENDING)
    assert dispatch_due_messages.delay().get() == 1
    assert OutboxMessage.objects.get(pk=confirmation.pk).status == MessageStatus.SENT
    assert OutboxMessage.objects.filter(status=MessageStatus.PENDING).count() == 30
    assert dispatch_bulk_messages.delay().get() == 30
    assert not OutboxMessage.objects.filter(status=MessageStatus.PENDING).exists()


def test_a_bulk_message_does_not_wake_the_critical_dispatcher(
    patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        outbox_enqueue(event="campaign.flu", channel="sms", to="+79145550000", context={})
    assert callbacks == []


def test_the_dispatchers_are_routed_to_their_queues_and_both_run_on_the_beat():
    router = app.amqp.router
    assert router.route({}, dispatch_due_messages.name)["queue"].name == "critical"
    assert router.route({}, dispatch_bulk_messages.name)["queue"].name == "bulk"
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {dispatch_due_messages.name, dispatch_bulk_messages.name} <= tasks


@override_settings(NOTIFICATION_RATE_LIMITS={"development": (2, 60)})
def test_a_limited_send_is_deferred_to_the_next_window_not_failed(patient):
    due = timezone.now() - datetime.timedelta(seconds=1)
    for i in range(5):
        outbox_enqueue(
            event="appointment.booked",
            channel="sms",
            patient=patient,
            context={"text": f"n{i}"},
            due_at=due,
        )
    assert outbox_dispatch_due() == 5
    sent = OutboxMessage.objects.filter(status=MessageStatus.SENT)
    deferred = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
    assert (sent.count(), deferred.count()) == (2, 3)
    for message in deferred:
        assert message.attempts == 0  # a deferral is not an attempt
        assert message.last_error == ""
        assert message.due_at > timezone.now()
    assert outbox_dispatch_due() == 0  # not due again before the window ends


@override_settings(NOTIFICATION_RATE_LIMITS={"smsru": (3, 10)})
def test_the_bucket_refills_each_window_and_other_providers_are_not_limited():
    start = 1_000_000.0
    for _ in range(3):
        provider_take("smsru", now=start)
    with pytest.raises(RateLimited) as limited:
        provider_take("smsru", now=start + 4)
    assert limited.value.retry_after == pytest.approx(6)
    provider_take("smsru", now=start + 10)  # the next window
    for _ in range(10):
        provider_take("twilio", now=start)
