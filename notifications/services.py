"""Write paths of the outbox. Other apps call `outbox_enqueue` inside their own transaction."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from notifications.choices import CHANNELS, Channel, MessageStatus
from notifications.models import OutboxMessage
from notifications.senders import SendError, get_sender
from notifications.wakeup import wake_dispatcher
from portal.models import Patient

logger = logging.getLogger(__name__)

RETRY_BACKOFF = (60, 300, 900, 3600, 6 * 3600)


class NoAddress(Exception):
    """The recipient has no address for the requested channel."""


def _address_for(patient: Patient, channel: str) -> str:
    if channel == Channel.SMS:
        return patient.phone
    if channel == Channel.EMAIL:
        return patient.email
    return ""


def outbox_enqueue(*, key_is_new: bool = False, **fields) -> OutboxMessage:
    """Record a message (the arguments of `outbox_message`) to send once the surrounding
    transaction commits.

    Either `patient` (address taken from the profile for `channel`) or an explicit `to` is
    needed. A repeated `idempotency_key` returns the first message instead of a second one;
    `key_is_new=True` says the key cannot have been used before (it contains an id created in
    this transaction), which skips looking for it.
    """
    message = outbox_message(**fields)
    key = message.idempotency_key
    if key and not key_is_new:
        existing = OutboxMessage.objects.filter(idempotency_key=key).first()
        if existing:
            return existing
    message.save(force_insert=True)
    outbox_nudge_on_commit(message)
    return message


def outbox_message(
    *,
    event: str,
    channel: str,
    context: dict,
    patient: Patient | None = None,
    to: str | None = None,
    language: str | None = None,
    due_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
) -> OutboxMessage:
    """The unsaved message `outbox_enqueue` would record, for callers that insert a change's
    whole trail at once; they call `outbox_nudge_on_commit` after inserting it. Raises
    `NoAddress` like `outbox_enqueue`."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    address = to or (patient and _address_for(patient, channel)) or ""
    if not address:
        raise NoAddress(f"no {channel} address for this recipient")
    return OutboxMessage(
        event=event,
        channel=channel,
        patient=patient,
        to_address=address,
        language=language
        or (patient and patient.preferred_language)
        or translation.get_language()
        or settings.LANGUAGE_CODE,
        context=context,
        due_at=due_at or timezone.now(),
        idempotency_key=idempotency_key,
    )


def outbox_nudge_on_commit(message: OutboxMessage) -> None:
    """Wake the dispatcher when the transaction commits if `message` is due already; once per
    transaction, however many messages it records."""
    if message.due_at > timezone.now():
        return
    connection = transaction.get_connection()
    if any(func is _nudge_dispatcher for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_nudge_dispatcher)


def _nudge_dispatcher() -> None:
    wake_dispatcher()


def render_message(message: OutboxMessage) -> tuple[str, str]:
    """Render (subject, body) from `notifications/messages/<event>.<channel>.txt`.

    A template's first line `Subject: ...` becomes the subject of an email.
    """
    names = [
        f"notifications/messages/{message.event}.{message.channel}.txt",
        f"notifications/messages/{message.event}.txt",
    ]
    with translation.override(message.language):
        try:
            text = render_to_string(names, _with_display_times(message.context)).strip()
        except TemplateDoesNotExist:
            text = message.context.get("text", message.event)
    subject = ""
    if text.startswith("Subject:"):
        first, _sep, rest = text.partition("\n")
        subject, text = first.removeprefix("Subject:").strip(), rest.strip()
    return subject, text


def _with_display_times(context: dict) -> dict:
    """`context` with `start_display`: its `start` (ISO, the clinic's local time with its
    offset) written out in the active language, unless the context brings its own."""
    start = context.get("start")
    if "start_display" in context or not isinstance(start, str):
        return context
    try:
        local = datetime.datetime.fromisoformat(start)
    except ValueError:
        return context
    return {**context, "start_display": formats.date_format(local, "DATETIME_FORMAT")}


def outbox_claim_due(*, limit: int = 50) -> list[int]:
    """Mark up to `limit` due messages as sending and return their ids (SKIP LOCKED)."""
    now = timezone.now()
    with transaction.atomic():
        rows = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        ids = list(rows)
        OutboxMessage.objects.filter(id__in=ids).update(status=MessageStatus.SENDING)
    return ids


def outbox_send(*, message_id: int) -> OutboxMessage:
    """Send one claimed message through its channel's sender, recording the outcome."""
    message = OutboxMessage.objects.get(id=message_id)
    if message.status != MessageStatus.SENDING:
        return message
    message.subject, message.body = render_message(message)
    message.attempts += 1
    sender = get_sender(message.channel)
    try:
        provider_id = sender.send(message)
    except SendError as exc:
        retry = message.attempts < message.max_attempts
        message.status = MessageStatus.PENDING if retry else MessageStatus.FAILED
        delay = RETRY_BACKOFF[min(message.attempts - 1, len(RETRY_BACKOFF) - 1)]
        message.due_at = timezone.now() + datetime.timedelta(seconds=delay)
        message.last_error = str(exc)[:300]
        logger.warning("outbox message %s failed: %s", message.public_id, exc.__class__.__name__)
    else:
        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.provider = sender.name
        message.provider_message_id = provider_id or ""
        message.last_error = ""
    message.save(
        update_fields=[
            "subject",
            "body",
            "attempts",
            "status",
            "due_at",
            "last_error",
            "sent_at",
            "provider",
            "provider_message_id",
        ]
    )
    return message


def outbox_purge_older_than(*, days: int) -> int:
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted, _details = OutboxMessage.objects.filter(
        created_at__lt=cutoff,
        status__in=[MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED],
    ).delete()
    return deleted
