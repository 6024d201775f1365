"""Write paths of the outbox. Other apps call `outbox_enqueue` inside their own transaction;
`notifications.dispatch` sends what it records."""

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
from django.utils import timezone, translation

from notifications.choices import CHANNELS, Channel, Lane
from notifications.models import OutboxMessage
from notifications.queues import lane_for_event
from notifications.tasks import dispatch_due_messages
from portal.choices import MessageKind
from portal.models import Clinic, Patient
from portal.selectors.contact import (
    channel_allows,
    channels_allowing,
    contact_address,
    has_messenger_chat,
    phone_is_landline,
)

logger = logging.getLogger(__name__)


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
    # A dependant without their own phone, e-mail or chat is written to at their guardian's.
    return contact_address(patient, channel) if channel in CHANNELS else ""


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


def prefer_messenger(*, patient: Patient, channels: Sequence[str]) -> tuple[str, ...]:
    """`channels` with SMS replaced by Telegram when the patient has a linked chat (or, for a
    dependant without one, their guardian has) that takes visit messages: confirmations,
    changes, reminders and waitlist offers go where the patient reads them, and a STOP in the
    chat (or its switch turned off) puts them back on SMS. One query for everyone, two for
    those with a chat."""
    if (
        Channel.SMS in channels
        and has_messenger_chat(patient)
        and channel_allows(patient=patient, channel=Channel.MESSENGER, kind=MessageKind.CARE)
    ):
        return tuple(Channel.MESSENGER if c == Channel.SMS else c for c in channels)
    return tuple(channels)


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
    try:
        # One attempt, no retry loop: a broker that does not answer must not hold up the
        # request that committed the message.
        dispatch_due_messages.apply_async(retry=False)
    except Exception as exc:
        logger.warning(
            "could not publish the outbox dispatch (%s); the periodic dispatch will send it",
            exc.__class__.__name__,
        )


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
