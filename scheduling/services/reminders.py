"""Visit reminders: each clinic's offsets before the visit (BookingPolicy), computed in the
clinic's zone, sent through the outbox once per placement of a visit and offset.

The beat runs `reminders_enqueue_due` every few minutes. A reminder is recorded when its time
has come, with an idempotency key naming the appointment, the offset and the event that gave
the visit its current time, so a run repeated or racing another records nothing twice, and a
moved visit (a new placement event) gets reminders for its new time. A reminder still waiting
in the outbox is cancelled when its visit is cancelled, moved or rolled back
(`reminders_cancel_pending`, called from the change's trail).
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from notifications.choices import Channel, MessageStatus
from notifications.models import OutboxMessage
from notifications.services import next_contact_time, outbox_enqueue
from portal.choices import ConsentPurpose, MessageKind
from portal.models import Consent, Patient
from portal.selectors.contact import channels_allowing, contact_address, has_messenger_chat
from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.models import Appointment, BookingPolicy
from scheduling.models.rules import MAX_REMINDER_OFFSET_MINUTES, default_reminder_offsets
from scheduling.selectors.policy import policy_for

# history calls back into this module (reminders_cancel_pending): imported as a module.
from scheduling.services import history

REMINDER_EVENT = "appointment.reminder"
# A visit that is still ahead and not yet at the desk; a booking waiting for its prepayment
# is announced once paid, and reminded only then.
REMINDABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
# The events that give a visit its time: a reminder belongs to one of them.
PLACEMENT_EVENTS = (
    AppointmentEventKind.BOOKED,
    AppointmentEventKind.RESCHEDULED,
    AppointmentEventKind.ROLLED_BACK,
)
# Refusing either consent stops reminders (ECOSYSTEM.md: nothing to a patient who refused
# notifications or data processing).
STOPPING_CONSENTS = (ConsentPurpose.SERVICE_NOTIFICATIONS, ConsentPurpose.PERSONAL_DATA)
MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def reminder_key_prefix(appointment: Appointment) -> str:
    return f"reminder:{appointment.public_id}:"


def reminder_key(appointment: Appointment, *, offset_minutes: int, placement_id: int) -> str:
    return f"{reminder_key_prefix(appointment)}{offset_minutes}:{placement_id}"


@dataclass(frozen=True)
class PlannedReminder:
    offset_minutes: int
    send_at: datetime.datetime


def plan_reminder(
    *,
    starts_at: datetime.datetime,
    placed_at: datetime.datetime,
    policy: BookingPolicy,
    zone: zoneinfo.ZoneInfo,
    now: datetime.datetime,
) -> PlannedReminder | None:
    """The reminder to record now for a visit at `starts_at` placed at `placed_at`, or None.

    Of the offsets whose time has come, only the latest counts (an earlier one missed is stale
    once a later one is due). None when that reminder time came before the visit was placed
    (the booking or move message said it all), while the placement may still be rolled back,
    or when contact hours would defer it to the visit's start or later.
    """
    due = [
        minutes
        for minutes in policy.reminder_offsets_minutes or []
        if starts_at - datetime.timedelta(minutes=minutes) <= now
    ]
    if not due or starts_at <= now:
        return None
    offset = min(due)
    remind_at = starts_at - datetime.timedelta(minutes=offset)
    if placed_at > remind_at:
        return None
    if now < placed_at + datetime.timedelta(minutes=policy.rollback_window_minutes):
        return None  # asked again by a later run, once the placement is final
    send_at = next_contact_time(
        remind_at,
        zone=zone,
        opens=policy.contact_hours_start,
        closes=policy.contact_hours_end,
    )
    if send_at >= starts_at:
        return None
    return PlannedReminder(offset_minutes=offset, send_at=send_at)


def reminders_enqueue_due(*, now: datetime.datetime | None = None) -> int:
    """Record the reminders whose time has come; returns how many were recorded."""
    now = now or timezone.now()
    appointments = (
        Appointment.objects.filter(
            status__in=REMINDABLE_STATUSES,
            payment_due_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + datetime.timedelta(minutes=_longest_offset_minutes()),
            patient__anonymised_at__isnull=True,
        )
        .select_related("clinic__booking_policy", "doctor", "service", "patient")
        .annotate(
            placement_id=Max("events__id", filter=Q(events__kind__in=PLACEMENT_EVENTS)),
            placed_at=Max("events__occurred_at", filter=Q(events__kind__in=PLACEMENT_EVENTS)),
        )
        .order_by("starts_at")
    )
    for purpose in STOPPING_CONSENTS:
        appointments = appointments.exclude(_refused(purpose))
    recorded = 0
    for appointment in appointments.iterator(chunk_size=500):
        placed_at = appointment.placed_at or appointment.created_at
        planned = plan_reminder(
            starts_at=appointment.starts_at,
            placed_at=placed_at,
            policy=policy_for(appointment.clinic),
            zone=appointment.clinic.tz,
            now=now,
        )
        if planned is None:
            continue
        key = reminder_key(
            appointment,
            offset_minutes=planned.offset_minutes,
            placement_id=appointment.placement_id or 0,
        )
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            continue
        if _record(appointment, planned=planned, key=key):
            recorded += 1
    return recorded


def _longest_offset_minutes() -> int:
    """The furthest any clinic reminds ahead: each run looks at the visits that close only."""
    offsets = [*default_reminder_offsets()]
    for configured in BookingPolicy.objects.values_list("reminder_offsets_minutes", flat=True):
        offsets.extend(configured or [])
    return min(max(offsets), MAX_REMINDER_OFFSET_MINUTES)


def _record(appointment: Appointment, *, planned: PlannedReminder, key: str) -> bool:
    # The channel is chosen by the address the patient has and takes visit messages on, so
    # `outbox_enqueue` always finds one it may use (no NoAddress to catch); a patient with
    # none is skipped here.
    channel = reminder_channel(appointment.patient)
    if channel is None:
        return False
    try:
        with transaction.atomic():
            outbox_enqueue(
                event=REMINDER_EVENT,
                channel=channel,
                patient=appointment.patient,
                context=history.message_context(appointment, offset_minutes=planned.offset_minutes),
                due_at=planned.send_at,
                idempotency_key=key,
                clinic=appointment.clinic_id,
                key_is_new=True,  # looked up just before; a racing run trips the constraint
            )
    except IntegrityError:
        return False  # another run recorded it first
    return True


def reminder_channel(patient: Patient) -> str | None:
    """The first channel, in the order Telegram (a linked chat), SMS to a mobile number,
    e-mail, that reaches the patient and on which they take visit messages (no STOP there,
    not turned off in the portal); None when none does. Landlines get no SMS (ECOSYSTEM.md).
    A dependant without an address of their own is reached at their guardian's."""
    candidates = []
    if has_messenger_chat(patient):
        candidates.append(Channel.MESSENGER)
    phone = contact_address(patient, Channel.SMS)
    if phone and _is_mobile(phone):
        candidates.append(Channel.SMS)
    if contact_address(patient, Channel.EMAIL):
        candidates.append(Channel.EMAIL)
    allowed = channels_allowing(patient=patient, channels=candidates, kind=MessageKind.CARE)
    return next((channel for channel in candidates if channel in allowed), None)


def _is_mobile(phone: str) -> bool:
    try:
        number = phonenumbers.parse(phone, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False  # a stored number that does not parse (older data) gets no SMS
    return phonenumbers.number_type(number) in MOBILE_TYPES


def _refused(purpose: str) -> Q:
    """The patient withdrew their consent for `purpose` and has not given it again. A patient
    who never answered is reminded: reminders are part of the care they booked."""
    consents = Consent.objects.filter(patient=OuterRef("patient_id"), purpose=purpose)
    return Q(Exists(consents.filter(withdrawn_at__isnull=False))) & ~Q(
        Exists(consents.filter(withdrawn_at__isnull=True))
    )


def reminders_cancel_pending(appointment: Appointment) -> int:
    """Cancel the visit's reminders still waiting in the outbox (it was cancelled, moved or
    rolled back); returns how many. Called inside the change's transaction."""
    # Pending first: the outbox's (status, due_at) index narrows to the few waiting messages,
    # whatever the size of the outbox, before the key's prefix is compared.
    return OutboxMessage.objects.filter(
        status=MessageStatus.PENDING,
        event=REMINDER_EVENT,
        idempotency_key__startswith=reminder_key_prefix(appointment),
    ).update(status=MessageStatus.CANCELLED, last_error="VisitChanged")
