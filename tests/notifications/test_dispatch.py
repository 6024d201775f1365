"""The dispatcher: one claim, send and record per message; expired claims taken again; any
exception recorded on its message; one wake-up per transaction."""

import datetime
import logging

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import dispatch, services
from notifications.choices import MessageStatus
from notifications.dispatch import outbox_claim_next, outbox_dispatch_due, outbox_send
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

pytestmark = pytest.mark.django_db

SECRET_TEXT = "the code is 834211"


class ExplodingSender:
    """A sender with a bug: its exception quotes the address and the text."""

    name = "exploding"

    def send(self, message):
        raise RuntimeError(f"cannot send {message.body!r} to {message.to_address}")


class StatusRecordingSender:
    """Notes the statuses in the outbox while each message is being sent."""

    name = "recording"
    seen: list[dict] = []

    def send(self, message):
        counts = {}
        for status in OutboxMessage.objects.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        StatusRecordingSender.seen.append(counts)
        return "ok"


class TakenOverSender:
    """Sends so slowly that another worker's claim replaces this one meanwhile."""

    name = "slow"

    def send(self, message):
        OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now())
        return "late"


def enqueue(patient, channel="sms", **fields):
    return outbox_enqueue(
        event="test.dispatch",
        channel=channel,
        patient=patient,
        context={"text": SECRET_TEXT},
        **fields,
    )


def age_claim(message, seconds):
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def test_each_message_is_claimed_only_when_its_turn_comes(patient):
    StatusRecordingSender.seen = []
    for _ in range(3):
        enqueue(patient)
    with override_settings(NOTIFICATION_SENDERS={"sms": f"{__name__}.StatusRecordingSender"}):
        assert outbox_dispatch_due() == 3
    assert StatusRecordingSender.seen == [
        {"sending": 1, "pending": 2},
        {"sent": 1, "sending": 1, "pending": 1},
        {"sent": 2, "sending": 1},
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_a_claim_records_its_time_and_counts_as_an_attempt(patient):
    message = enqueue(patient)
    before = timezone.now()
    claimed = outbox_claim_next()
    assert claimed == message
    claimed.refresh_from_db()
    assert claimed.status == MessageStatus.SENDING
    assert claimed.claimed_at >= before
    assert claimed.attempts == 1


@override_settings(OUTBOX_CLAIM_TIMEOUT_SECONDS=300)
def test_a_message_whose_worker_died_is_claimed_again_after_the_timeout(patient):
    message = enqueue(patient)
    outbox_claim_next()  # the worker that claimed it dies here
    age_claim(message, 299)
    assert outbox_claim_next() is None
    age_claim(message, 301)
    assert outbox_claim_next() == message
    message.refresh_from_db()
    assert message.attempts == 2
    assert outbox_send(message_id=message.pk).status == MessageStatus.SENT


@override_settings(OUTBOX_CLAIM_TIMEOUT_SECONDS=300)
def test_a_message_that_kills_its_worker_every_time_ends_failed(patient):
    message = enqueue(patient)
    message.max_attempts = 2
    message.save(update_fields=["max_attempts"])
    for _ in range(2):
        assert outbox_claim_next() == message
        age_claim(message, 301)
    assert outbox_dispatch_due() == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "ClaimExpired"


@override_settings(NOTIFICATION_SENDERS={"sms": f"{__name__}.ExplodingSender"})
def test_an_unexpected_exception_is_recorded_on_its_message_and_the_batch_goes_on(patient, caplog):
    caplog.set_level(logging.WARNING, logger="notifications.dispatch")
    broken = enqueue(patient, channel="sms")
    fine = enqueue(patient, channel="email")
    assert outbox_dispatch_due() == 2
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert fine.status == MessageStatus.SENT
    assert broken.status == MessageStatus.PENDING
    assert broken.attempts == 1
    assert broken.last_error == "RuntimeError"
    assert broken.due_at > timezone.now() + datetime.timedelta(seconds=30)
    assert str(broken.public_id) in caplog.text
    assert "RuntimeError" in caplog.text
    for pii in (patient.phone, SECRET_TEXT):
        assert pii not in caplog.text


@override_settings(NOTIFICATION_SENDERS={"sms": f"{__name__}.ExplodingSender"})
def test_an_unexpected_exception_on_the_last_attempt_marks_the_message_failed(patient):
    message = enqueue(patient)
    message.max_attempts = 2
    message.save(update_fields=["max_attempts"])
    outbox_dispatch_due()
    OutboxMessage.objects.filter(pk=message.pk).update(due_at=timezone.now())
    outbox_dispatch_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 2
    assert message.last_error == "RuntimeError"


def test_a_template_error_is_recorded_like_any_other(patient, monkeypatch):
    message = enqueue(patient)

    def broken_render(message):
        raise KeyError("start")

    monkeypatch.setattr(dispatch, "render_message", broken_render)
    outbox_dispatch_due()
    message.refresh_from_db()
    assert (message.status, message.last_error) == (MessageStatus.PENDING, "KeyError")


@override_settings(NOTIFICATION_SENDERS={"sms": f"{__name__}.TakenOverSender"})
def test_the_outcome_of_a_claim_taken_over_meanwhile_is_not_recorded(patient):
    message = enqueue(patient)
    outbox_claim_next()
    outbox_send(message_id=message.pk)
    message.refresh_from_db()
    # The newer claim's worker records its own outcome.
    assert message.status == MessageStatus.SENDING
    assert message.provider_message_id == ""


def test_a_message_not_yet_claimed_is_not_sent(patient):
    message = enqueue(patient)
    assert outbox_send(message_id=message.pk).status == MessageStatus.PENDING


# --- Waking the dispatcher -----------------------------------------------------------------


@pytest.fixture
def publishes(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "publish_dispatch", lambda: calls.append(1))
    return calls


def run(callbacks):
    for callback in callbacks:
        callback()


def test_several_due_messages_in_one_transaction_wake_the_dispatcher_once(
    patient, publishes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(patient, channel="sms")
        enqueue(patient, channel="email")
    run(callbacks)
    assert publishes == [1]
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(patient)
    run(callbacks)
    assert publishes == [1, 1]


def test_a_transaction_after_a_rolled_back_one_still_wakes_the_dispatcher(
    patient, publishes, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        enqueue(patient)
        raise Abort
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(patient)
    run(callbacks)
    assert publishes == [1]


def test_a_message_due_later_does_not_wake_the_dispatcher(
    patient, django_capture_on_commit_callbacks
):
    later = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(patient, due_at=later)
    assert callbacks == []


def test_a_broker_that_is_down_is_logged_and_the_change_still_commits(
    patient, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from notifications.tasks import dispatch_due_messages

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis. Connection refused.")

    monkeypatch.setattr(dispatch_due_messages, "apply_async", broker_down)
    caplog.set_level(logging.WARNING, logger="notifications.services")
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(patient)
    assert OutboxMessage.objects.get(pk=message.pk).status == MessageStatus.PENDING
    assert "could not publish the outbox dispatch (OperationalError)" in caplog.text
