"""The trail every appointment change leaves, in the same transaction as the change: an
`AppointmentEvent`, an audit row and outbox messages to the patient."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from notifications.services import outbox_messages, outbox_record, prefer_messenger
from portal.choices import AuditAction
from portal.models import Patient
from portal.services.audit import audit_record
from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.models import Appointment, AppointmentEvent
from scheduling.services import reminders

OBJECT_TYPE = "scheduling.appointment"
K = AppointmentEventKind
# Changes after which the visit's waiting reminders are for a time that no longer holds.
CANCELS_REMINDERS = frozenset({K.RESCHEDULED, K.CANCELLED, K.ROLLED_BACK})
# A visit left in one of these gave its time back: the waitlist may offer it.
FREED_STATUSES = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.ROLLED_BACK})
# Visit-day bookkeeping goes by email only; changes of the booking itself also by SMS.
NOTIFY_CHANNELS: dict[str, tuple[str, ...]] = {
    K.BOOKED: ("sms", "email"),
    K.RESCHEDULED: ("sms", "email"),
    K.CANCELLED: ("sms", "email"),
    K.ROLLED_BACK: ("sms", "email"),
    K.CONFIRMED: ("email",),
    K.CHECKED_IN: ("email",),
    K.COMPLETED: ("email",),
    K.NO_SHOW: ("email",),
}


def message_context(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    """What message templates may show; the outbox encrypts it at rest. `start` is the clinic's
    local time with its offset; the outbox writes it out in the message's language when it
    renders the message (`start_display`)."""
    clinic = appointment.clinic
    context = {
        "appointment_id": str(appointment.public_id),
        "clinic": clinic.name,
        "clinic_address": clinic.address,
        "clinic_city": clinic.city,
        "clinic_phone": clinic.phone,
        "doctor": appointment.doctor.full_name,
        "service": appointment.service.name,
        "preparation": appointment.service.preparation,
        "start": appointment.starts_at.astimezone(clinic.tz).isoformat(),
    }
    context.update(extra)
    return context


def record_change(
    *,
    appointment: Appointment,
    kind: str,
    from_status: str,
    actor: Any,
    now: datetime.datetime,
    changed_fields: list[str],
    reason: str = "",
    context: dict[str, Any] | None = None,
    notify: bool = True,
) -> AppointmentEvent:
    """Append the event, the audit row and the patient's messages of one change (none with
    `notify=False`: a booking that waits for its prepayment is announced once paid)."""
    authenticated = getattr(actor, "is_authenticated", False)
    event = AppointmentEvent.objects.create(
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor if authenticated else None,
        occurred_at=now,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if kind == K.BOOKED else AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=str(appointment.public_id),
        patient_ids=[appointment.patient.public_id],
        changed_fields=changed_fields,
        clinic=appointment.clinic_id,
    )
    if kind in CANCELS_REMINDERS:
        reminders.reminders_cancel_pending(appointment)
    if appointment.status in FREED_STATUSES:
        _offer_to_waitlist_on_commit(appointment.pk)
    if not notify:
        return event
    messages = outbox_messages(
        event=f"appointment.{kind}",
        channels=notify_channels(kind, appointment.patient),
        patient=appointment.patient,
        context=message_context(appointment, **(context or {})),
        clinic=appointment.clinic_id,
    )
    outbox_record(messages=messages)
    return event


def notify_channels(kind: str, patient: Patient) -> tuple[str, ...]:
    """The channels a change of `kind` is told on: Telegram instead of SMS for a patient whose
    linked chat takes visit messages, as their reminders and waitlist offers
    (`notifications.services.prefer_messenger`)."""
    return prefer_messenger(patient=patient, channels=NOTIFY_CHANNELS[kind])


def _offer_to_waitlist_on_commit(appointment_id: int) -> None:
    """Once the change commits, the waitlist is offered the freed time (nothing for a change
    rolled back). A broker that is down must not fail the committed change: logged."""
    # tasks.py imports the booking services; the task is looked up when first needed.
    from scheduling.tasks import offer_freed_slot

    transaction.on_commit(lambda: offer_freed_slot.delay(appointment_id), robust=True)
