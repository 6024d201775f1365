"""The development sender's delivery log: one line per public id, no address or text."""

import datetime
import json

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.choices import MessageStatus
from notifications.dispatch import outbox_claim_next, outbox_dispatch_due
from notifications.models import OutboxMessage
from notifications.senders.development import DevelopmentSender
from notifications.services import outbox_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery_log(tmp_path):
    path = tmp_path / "deliveries.jsonl"
    with override_settings(DEV_OUTBOX_LOG=str(path)):
        yield path


def entries(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_delivery_is_logged_without_address_or_text(patient, delivery_log):
    message = outbox_enqueue(
        event="auth.login_code", channel="sms", patient=patient, context={"code": "834211"}
    )
    outbox_dispatch_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    [entry] = entries(delivery_log)
    assert entry["public_id"] == str(message.public_id)
    assert (entry["channel"], entry["event"]) == ("sms", "auth.login_code")
    text = delivery_log.read_text()
    for pii in (patient.phone, "834211", message.body):
        assert pii not in text


def test_a_repeated_delivery_of_one_public_id_is_logged_once(patient, delivery_log):
    message = outbox_enqueue(event="e", channel="email", patient=patient, context={})
    sender = DevelopmentSender()
    assert sender.send(message) == sender.send(message) == f"dev-{message.public_id}"
    assert len(entries(delivery_log)) == 1


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next_one(patient, delivery_log):
    delivery_log.write_text('{"public_id": "0000-cut-sh')
    message = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    DevelopmentSender().send(message)
    DevelopmentSender().send(message)
    lines = delivery_log.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["public_id"] == str(message.public_id)


@override_settings(OUTBOX_CLAIM_TIMEOUT_SECONDS=60)
def test_a_message_delivered_by_a_worker_that_died_before_recording_it_is_logged_once(
    patient, delivery_log
):
    message = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    # The first worker claims it, the provider takes it, and the worker dies before recording.
    DevelopmentSender().send(outbox_claim_next())
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    assert outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert [entry["public_id"] for entry in entries(delivery_log)] == [str(message.public_id)]


def test_without_a_log_nothing_is_written(patient, tmp_path):
    message = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    with override_settings(DEV_OUTBOX_LOG=""):
        assert DevelopmentSender().send(message) == f"dev-{message.public_id}"
    assert list(tmp_path.iterdir()) == []
