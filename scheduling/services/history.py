"""The trail every appointment change leaves, in the same transaction as the change:
an `AppointmentEvent`, an audit row and outbox messages to the patient, inserted in one round
trip (with the change's own occupancy rows, when it takes time: see `appointment_book`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from notifications.models import OutboxMessage
from notifications.services import NoAddress, outbox_message, outbox_nudge_on_commit
from portal.choices import AuditAction
from portal.services.audit import audit_event
from scheduling.choices import AppointmentEventKind
from scheduling.db import insert_statement, run_batch, saved
from scheduling.models import Appointment, AppointmentEvent

OBJECT_TYPE = "scheduling.appointment"
K = AppointmentEventKind
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
    renders the message (`start_display`), not on the request's path."""
    clinic = appointment.clinic
    local = appointment.starts_at.astimezone(clinic.tz)
    context = {
        "appointment_id": str(appointment.public_id),
        "clinic": clinic.name,
        "clinic_address": clinic.address,
        "clinic_phone": clinic.phone,
        "doctor": appointment.doctor.full_name,
        "service": appointment.service.name,
        "preparation": appointment.service.preparation,
        "start": local.isoformat(),
    }
    context.update(extra)
    return context


@dataclass
class Trail:
    """The rows one change appends, built but not yet inserted: its statements go to the
    database in one round trip, possibly with the change's own writes (`occupancy_insert`'s
    `then`); `inserted` takes their answers back."""

    event: AppointmentEvent
    statements: list[tuple[str, list]]
    messages: list[OutboxMessage]

    def inserted(self, results: list[list[tuple]]) -> AppointmentEvent:
        """Mark the rows as saved, given the answers of `statements`, in order (not read when
        the event's id was reserved)."""
        saved(self.event, self.event.pk if self.event.pk is not None else results[0][0][0])
        for message in self.messages:
            outbox_nudge_on_commit(message)
        return self.event


def change_trail(
    *,
    appointment: Appointment,
    kind: str,
    from_status: str,
    actor,
    now: datetime.datetime,
    changed_fields: list[str],
    reason: str = "",
    context: dict[str, Any] | None = None,
    event_id: int | None = None,
) -> Trail:
    """The event, the audit row and the patient's messages of one change, to be inserted;
    `event_id`: an id reserved for the event (`scheduling.db.reserved_id_columns`)."""
    event = AppointmentEvent(
        pk=event_id,
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        occurred_at=now,
        reason=reason,
    )
    audit = audit_event(
        actor=actor,
        action=AuditAction.CREATE if kind == K.BOOKED else AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=str(appointment.public_id),
        patient_ids=[appointment.patient.public_id],
        changed_fields=changed_fields,
        clinic=appointment.clinic_id,
    )
    message = message_context(appointment, **(context or {}))
    messages = []
    for channel in NOTIFY_CHANNELS[kind]:
        try:
            messages.append(
                outbox_message(
                    event=f"appointment.{kind}",
                    channel=channel,
                    patient=appointment.patient,
                    context=message,
                )
            )
        except NoAddress:
            continue
    statements = [
        insert_statement([event], with_pk=event_id is not None, returning_pk=event_id is None),
        insert_statement([audit]),
    ]
    if messages:
        statements.append(insert_statement(messages))
    return Trail(event=event, statements=statements, messages=messages)


def record_change(**change) -> AppointmentEvent:
    """Append the event, the audit row and the patient's messages for one change (the
    arguments of `change_trail`) in one round trip of their own."""
    trail = change_trail(**change)
    return trail.inserted(run_batch(trail.statements))
