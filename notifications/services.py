"""Write paths of the outbox. Other apps call `outbox_enqueue` inside their own transaction."""

from __future__ import annotations

import datetime
import logging
import weakref
import zoneinfo
from collections.abc import Collection, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from notifications.choices import (
    CHANNELS,
    DELIVERY_RANK,
    Channel,
    DeliveryStatus,
    Lane,
    MessageStatus,
)
from notifications.models import OutboxMessage
from notifications.queues import RateLimited, lane_for_event, provider_take
from notifications.senders import PermanentSendError, SendError, get_sender
from notifications.templating import render_custom
from portal.choices import MessageKind
from portal.formatting import is_readers_zone, zone_note
from portal.models import Clinic, Patient
from portal.selectors.contact import channels_allowing, messenger_chat_of, phone_is_landline

logger = logging.getLogger(__name__)

RETRY_BACKOFF = (60, 300, 900, 3600, 6 * 3600)


class NoAddress(Exception):
    """The recipient has no address for the requested channel."""


class NotWanted(NoAddress):
    """The patient does not take this kind of message on this channel (turned off in the
    portal, a STOP reply, marketing without the advertising consent, SMS to a landline).
    A NoAddress, so callers that skip a channel without an address skip this one too."""


# Events that are answers to the patient's own action (sign-in and signing codes, replies to
# STOP/HELP, the Telegram link): they go whatever the preferences say.
SERVICE_EVENT_PREFIXES = ("auth.", "consent.", "inbound.", "messenger.")
MARKETING_EVENT_PREFIXES = ("campaign.", "marketing.")


def message_kind(event: str) -> str | None:
    """The preference kind of `event`: marketing for campaigns, None for service messages
    that always go, care (visits, payments, waitlist offers) for the rest."""
    if event.startswith(SERVICE_EVENT_PREFIXES):
        return None
    if event.startswith(MARKETING_EVENT_PREFIXES):
        return MessageKind.MARKETING
    return MessageKind.CARE


def _address_for(patient: Patient, channel: str) -> str:
    if channel == Channel.SMS:
        return patient.phone
    if channel == Channel.EMAIL:
        return patient.email
    if channel == Channel.MESSENGER:
        return messenger_chat_of(patient)
    return ""


def _check_wanted(
    *,
    patient: Patient,
    channel: str,
    event: str,
    address: str,
    allowed: Collection[str] | None = None,
) -> None:
    """Raise NotWanted when the patient's preferences or consents keep `event` off
    `channel`; an SMS to a number known to be a landline is never wanted. `allowed`: the
    channels `channels_allowing` already answered for this event's kind (else asked here)."""
    kind = message_kind(event)
    if kind is None:
        return
    if channel == Channel.SMS and phone_is_landline(address):
        raise NotWanted("SMS to a landline")
    if allowed is None:
        allowed = channels_allowing(patient=patient, channels=[channel], kind=kind)
    if channel not in allowed:
        raise NotWanted(f"{kind} messages are off on {channel} for this recipient")


def outbox_enqueue(
    *,
    event: str,
    channel: str,
    context: dict[str, Any],
    patient: Patient | None = None,
    to: str | None = None,
    language: str | None = None,
    due_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    key_is_new: bool = False,
    clinic: Clinic | int | None = None,
) -> OutboxMessage:
    """Record a message (the arguments of `outbox_message`) to send once the surrounding
    transaction commits.

    Either `patient` (address taken from the profile for `channel`) or an explicit `to` is
    needed. A patient's preferences and consents decide whether care and marketing messages
    may go (`NotWanted`, a `NoAddress`, when not). A repeated `idempotency_key` returns the
    first message instead of a second one; `key_is_new=True` says the key cannot have been
    used before (it contains an id created in this transaction), which skips looking for it.
    """
    message = outbox_message(
        event=event,
        channel=channel,
        context=context,
        patient=patient,
        to=to,
        language=language,
        due_at=due_at,
        idempotency_key=idempotency_key,
        clinic=clinic,
    )
    key = message.idempotency_key
    if key and not key_is_new:
        existing = OutboxMessage.objects.filter(idempotency_key=key).first()
        if existing:
            return existing
    message.save(force_insert=True)
    outbox_nudge_on_commit(message)
    return message


def outbox_record(*, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """Record messages built by `outbox_message` in one INSERT, to send once the surrounding
    transaction commits (a change that notifies on several channels at once). Messages with an
    idempotency key go through `outbox_enqueue`, which looks for the key first."""
    if any(message.idempotency_key for message in messages):
        raise ValueError("messages with an idempotency key are recorded by outbox_enqueue")
    recorded = OutboxMessage.objects.bulk_create(messages)
    for message in recorded:
        outbox_nudge_on_commit(message)
    return recorded


def outbox_message(
    *,
    event: str,
    channel: str,
    context: dict[str, Any],
    patient: Patient | None = None,
    to: str | None = None,
    language: str | None = None,
    due_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    clinic: Clinic | int | None = None,
    allowed: Collection[str] | None = None,
) -> OutboxMessage:
    """The unsaved message `outbox_enqueue` would record, for callers that insert a change's
    whole trail at once; they call `outbox_nudge_on_commit` after inserting it. Raises
    `NoAddress` like `outbox_enqueue`, and `NotWanted` (a NoAddress) when the patient keeps
    this kind of message off the channel (`message_kind`, `_check_wanted`). `clinic` (the
    visit's) picks the clinic's own texts and shows the message in that clinic's message log;
    the event picks the lane. `allowed`: the channels `channels_allowing` answered for this
    patient and the event's kind (`outbox_messages` asks once for several channels)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    address = to or (patient and _address_for(patient, channel)) or ""
    if not address:
        raise NoAddress(f"no {channel} address for this recipient")
    if patient is not None:
        _check_wanted(
            patient=patient, channel=channel, event=event, address=address, allowed=allowed
        )
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
        clinic_id=clinic.pk if isinstance(clinic, Clinic) else clinic,
        lane=lane_for_event(event),
    )


def outbox_messages(
    *,
    event: str,
    channels: Sequence[str],
    context: dict[str, Any],
    patient: Patient,
    clinic: Clinic | int | None = None,
) -> list[OutboxMessage]:
    """`outbox_message` of `event` to `patient` on each of `channels` that has an address and
    that the patient takes it on (the others are left out), with the patient's preferences
    read once for all the channels. For `outbox_record`."""
    kind = message_kind(event)
    allowed = (
        set(channels)
        if kind is None
        else channels_allowing(patient=patient, channels=channels, kind=kind)
    )
    messages = []
    for channel in channels:
        try:
            messages.append(
                outbox_message(
                    event=event,
                    channel=channel,
                    context=context,
                    patient=patient,
                    clinic=clinic,
                    allowed=allowed,
                )
            )
        except NoAddress:
            continue
    return messages


def outbox_nudge_on_commit(message: OutboxMessage) -> None:
    """Wake the dispatcher when the transaction commits if `message` is due already; one
    publish per transaction, however many messages it records. Bulk messages wait for the
    bulk dispatcher's periodic run: a mass send does not wake the critical queue."""
    if message.due_at > timezone.now() or message.lane == Lane.BULK:
        return
    connection = transaction.get_connection()
    wake = _wakes.get(connection)
    if wake is None or wake.done:
        wake = _wakes[connection] = _DispatchWake()
    # Registered once per message: a wake whose transaction rolled back is never called and is
    # reused by the next transaction, which must register it again. It publishes once.
    transaction.on_commit(wake)


class _DispatchWake:
    """The dispatcher wake-up of one transaction on one connection; publishes on its first
    call after the commit."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        publish_dispatch()


# The wake of each connection's current transaction; a connection belongs to one thread.
_wakes: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _DispatchWake] = weakref.WeakKeyDictionary()


def publish_dispatch() -> None:
    """Ask a worker to run the dispatcher now. A broker that is down is logged and forgiven:
    the beat's periodic dispatch sends the message, and the user's change is committed."""
    # tasks.py imports this module; the task is looked up when first needed.
    from notifications.tasks import dispatch_due_messages

    try:
        # One attempt, no retry loop: a broker that does not answer must not hold up the
        # request that committed the message.
        dispatch_due_messages.apply_async(retry=False)
    except Exception as exc:
        logger.warning(
            "could not publish the outbox dispatch (%s); the periodic dispatch will send it",
            exc.__class__.__name__,
        )


def render_message(message: OutboxMessage) -> tuple[str, str]:
    """Render (subject, body) from `notifications/messages/<event>.<channel>.txt`.

    A template's first line `Subject: ...` becomes the subject of an email. An event without a
    template brings its text (and subject) in the context, rendered by the caller: sign-in
    e-mails come rendered from allauth's templates.
    """
    names = [
        f"notifications/messages/{message.event}.{message.channel}.txt",
        f"notifications/messages/{message.event}.txt",
    ]
    with translation.override(message.language):
        context = {
            "network_name": settings.NETWORK_NAME,
            "site_url": settings.SITE_URL,
            **_with_display_times(message.context, reader_zone=_reader_zone(message)),
        }
        # A clinic's (or the network's) own text, edited in the message-text pages, comes first.
        custom = render_custom(
            clinic_id=message.clinic_id,
            event=message.event,
            channel=message.channel,
            language=message.language,
            context=context,
        )
        if custom is not None:
            return custom
        try:
            text = render_to_string(names, context).strip()
        except TemplateDoesNotExist:
            return str(message.context.get("subject", "")), str(
                message.context.get("text", message.event)
            )
    subject = ""
    if text.startswith("Subject:"):
        first, _sep, rest = text.partition("\n")
        subject, text = first.removeprefix("Subject:").strip(), rest.strip()
    return subject, text


def _reader_zone(message: OutboxMessage) -> zoneinfo.ZoneInfo:
    """The zone the recipient lives in, as the pages assume it: their home clinic's, else the
    network's DISPLAY_TIME_ZONE."""
    zone = ""
    if message.patient_id is not None:
        zone = (
            Patient.objects.filter(pk=message.patient_id)
            .values_list("home_clinic__timezone", flat=True)
            .first()
            or ""
        )
    return zoneinfo.ZoneInfo(zone or settings.DISPLAY_TIME_ZONE)


def _with_display_times(
    context: dict[str, Any], *, reader_zone: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    """`context` with `start_display`: its `start` (ISO, the clinic's local time with its
    offset) written out in the active language, saying the clinic's zone when it is not the
    reader's ("7 Dec 2026, 14:00 (Irkutsk time, UTC+8)"), unless the context brings its own."""
    start = context.get("start")
    if "start_display" in context or not isinstance(start, str):
        return context
    try:
        local = datetime.datetime.fromisoformat(start)
    except ValueError:
        return context
    if local.tzinfo is None:
        return context
    label = formats.date_format(local, "DATETIME_FORMAT")
    with timezone.override(reader_zone):
        readers_own = is_readers_zone(local.tzinfo, local)
    if not readers_own:
        label = zone_note(label, local, city=str(context.get("clinic_city", "")))
    return {**context, "start_display": label}


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


def next_contact_time(
    at: datetime.datetime,
    *,
    zone: zoneinfo.ZoneInfo,
    opens: datetime.time,
    closes: datetime.time,
    urgent: bool = False,
) -> datetime.datetime:
    """`at`, or the start of the next contact window when `at` falls outside the recipient's
    contact hours (`opens`–`closes`, wall-clock times in `zone`). Urgent messages go at once.
    `opens == closes` means no restriction."""
    if urgent or opens == closes:
        return at
    local = at.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    # A window may run across midnight, e.g. 22:00–06:00.
    inside = opens <= wall < closes if opens < closes else (wall >= opens or wall < closes)
    if inside:
        return at
    day = local.date() if wall < opens else local.date() + datetime.timedelta(days=1)
    # A wall-clock time built in the zone, so the offset of that day applies (DST).
    return datetime.datetime.combine(day, opens, tzinfo=zone).astimezone(datetime.UTC)
