"""Sending the outbox: claiming due messages, calling the providers, recording outcomes and
retries, delivery callbacks and the purge of old messages."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.choices import DELIVERY_RANK, DeliveryStatus, MessageStatus
from notifications.models import OutboxMessage
from notifications.queues import RateLimited, provider_take
from notifications.rendering import render_message
from notifications.senders import PermanentSendError, SendError, get_sender

logger = logging.getLogger(__name__)

RETRY_BACKOFF = (60, 300, 900, 3600, 6 * 3600)


def outbox_dispatch_due(*, limit: int = 200, lane: str | None = None) -> int:
    """Claim, send and record due messages (of `lane` only, when given) one at a time until
    none is due or `limit` were handled; returns how many were handled.

    Each message's claim and outcome commit on their own, so a worker killed mid-run strands
    at most the message it was sending, which `outbox_claim_next` takes again after
    OUTBOX_CLAIM_TIMEOUT_SECONDS.
    """
    outbox_fail_abandoned()
    handled = 0
    while handled < limit:
        message = outbox_claim_next(lane=lane)
        if message is None:
            break
        outbox_send(message_id=message.pk)
        handled += 1
    return handled


def _claim_expired_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS)


def outbox_claim_next(*, lane: str | None = None) -> OutboxMessage | None:
    """Mark the most overdue message as sending and return it, or None when nothing is due.

    Due are pending messages whose time has come and messages whose claim expired (their worker
    died). The claim commits before anything is sent and counts as an attempt, so a message
    that kills its worker every time still runs out of attempts. SKIP LOCKED lets concurrent
    dispatchers pass each other's claims. With `lane`, only that lane's messages are claimed.
    """
    now = timezone.now()
    claimable = Q(status=MessageStatus.PENDING, due_at__lte=now) | Q(
        status=MessageStatus.SENDING,
        claimed_at__lt=_claim_expired_before(),
        attempts__lt=F("max_attempts"),
    )
    if lane is not None:
        claimable &= Q(lane=lane)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(claimable)
            .order_by("due_at")
            .first()
        )
        if message is None:
            return None
        message.status = MessageStatus.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
    return message


def outbox_fail_abandoned() -> int:
    """Mark failed the messages whose expired claim was their last attempt; returns how many."""
    return OutboxMessage.objects.filter(
        status=MessageStatus.SENDING,
        claimed_at__lt=_claim_expired_before(),
        attempts__gte=F("max_attempts"),
    ).update(status=MessageStatus.FAILED, last_error="ClaimExpired")


# What `outbox_send` records about an attempt.
_OUTCOME_FIELDS = (
    "attempts",
    "subject",
    "body",
    "status",
    "due_at",
    "last_error",
    "sent_at",
    "provider",
    "provider_message_id",
)


def outbox_send(*, message_id: int) -> OutboxMessage:
    """Send one claimed message through its channel's sender and record the outcome.

    The provider is called outside any transaction. A `SendError`, or any other exception (a
    bug, a template error), is recorded on the message and retried with back-off until
    `max_attempts`; it is never raised, so the rest of a batch goes on. The outcome is recorded
    only while this claim is the message's latest: a worker whose claim expired and was taken
    over does not overwrite the newer claim's outcome.
    """
    message = OutboxMessage.objects.get(id=message_id)
    if message.status != MessageStatus.SENDING:
        return message
    try:
        message.subject, message.body = render_message(message)
        sender = get_sender(message.channel)
        provider_take(sender.name)
        provider_id = sender.send(message)
    except RateLimited as exc:
        # Deferred, not failed: the claim gives its attempt back (`_OUTCOME_FIELDS`).
        message.status = MessageStatus.PENDING
        message.attempts -= 1
        message.due_at = timezone.now() + datetime.timedelta(seconds=exc.retry_after)
    except PermanentSendError as exc:
        message.status = MessageStatus.FAILED
        message.provider = sender.name
        message.last_error = str(exc)[:300]
        logger.warning("outbox message %s refused for good", message.public_id)
    except SendError as exc:
        _schedule_retry(message, error=str(exc)[:300])
        logger.warning("outbox message %s failed: %s", message.public_id, exc.__class__.__name__)
    except Exception as exc:
        # The class name only: an exception's text may quote the address or the message.
        _schedule_retry(message, error=exc.__class__.__name__)
        logger.error(
            "outbox message %s raised %s while sending", message.public_id, exc.__class__.__name__
        )
    else:
        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.provider = sender.name
        message.provider_message_id = provider_id or ""
        message.last_error = ""
    OutboxMessage.objects.filter(pk=message.pk, claimed_at=message.claimed_at).update(
        **{name: getattr(message, name) for name in _OUTCOME_FIELDS}
    )
    return message


def _schedule_retry(message: OutboxMessage, *, error: str) -> None:
    retry = message.attempts < message.max_attempts
    message.status = MessageStatus.PENDING if retry else MessageStatus.FAILED
    delay = RETRY_BACKOFF[min(message.attempts - 1, len(RETRY_BACKOFF) - 1)]
    message.due_at = timezone.now() + datetime.timedelta(seconds=delay)
    message.last_error = error


def outbox_purge_older_than(*, days: int) -> int:
    """Delete delivered, failed and cancelled messages created more than `days` ago. Messages
    still in flight (pending or sending) are kept whatever their age."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted, _details = OutboxMessage.objects.filter(
        created_at__lt=cutoff,
        status__in=[MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED],
    ).delete()
    return deleted


def delivery_record(*, provider: str, provider_message_id: str, status: DeliveryStatus) -> bool:
    """Record a provider's status callback on the message it sent; False when no message of
    ours has that provider id. A status never goes back (a late "sent" after "delivered")."""
    message = (
        OutboxMessage.objects.filter(provider=provider, provider_message_id=provider_message_id)
        .only("pk", "delivery_status")
        .first()
    )
    if message is None:
        return False
    current = (
        DELIVERY_RANK.get(DeliveryStatus(message.delivery_status), 0)
        if message.delivery_status
        else 0
    )
    if DELIVERY_RANK[status] < current or message.delivery_status == status:
        return True
    OutboxMessage.objects.filter(pk=message.pk).update(
        delivery_status=status, delivery_updated_at=timezone.now()
    )
    return True
