"""Handing appointments to the registrar desk to move or cancel by hand (`RebookTask`).

Other workplaces open tasks (a closed room, a doctor away with nobody to take over); the desk
works them from its queue and closes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from portal.choices import AuditAction
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.choices import AppointmentStatus, RebookReason
from scheduling.errors import InvalidInput
from scheduling.models import Appointment, RebookTask
from scheduling.services.booking.guards import user_or_none

MAX_DETAIL_LENGTH = 200
# Visits still to happen and not yet begun: the only ones the desk can move.
WAITING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


@transaction.atomic
def rebook_tasks_open(
    *,
    appointments: Iterable[Appointment],
    reason: str,
    actor: Actor,
    detail: str = "",
) -> list[RebookTask]:
    """Open a task for each appointment not yet begun that has no open task yet;
    the tasks opened. Visits already cancelled or done need nothing, and an appointment with
    an open task keeps it (one queue row per visit, whatever the number of reasons)."""
    if reason not in RebookReason.values:
        raise InvalidInput(code="invalid_reason")
    detail = detail.strip()
    if len(detail) > MAX_DETAIL_LENGTH:
        raise InvalidInput(code="detail_too_long")
    candidates = [a for a in appointments if a.status in WAITING_STATUSES]
    already = set(
        RebookTask.objects.filter(appointment__in=candidates, closed_at__isnull=True).values_list(
            "appointment_id", flat=True
        )
    )
    now = timezone.now()
    tasks = RebookTask.objects.bulk_create(
        RebookTask(
            appointment=appointment,
            reason=reason,
            detail=detail,
            created_by=user_or_none(actor),
            created_at=now,
        )
        for appointment in candidates
        if appointment.pk not in already
    )
    for task in tasks:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="scheduling.rebooktask",
            object_id=task.appointment.public_id,
            patient_ids=[task.appointment.patient.public_id],
            changed_fields=["reason", "detail"],
            clinic=task.appointment.clinic_id,
        )
    return tasks


@transaction.atomic
def rebook_task_close(*, task: RebookTask, actor: Actor) -> RebookTask:
    """Close an open task (the visit was moved, cancelled, or needs nothing after all);
    closing a closed task changes nothing."""
    task = RebookTask.objects.select_for_update().get(pk=task.pk)
    if task.closed_at is not None:
        return task
    task.closed_at = timezone.now()
    task.closed_by = user_or_none(actor)
    task.save(update_fields=["closed_at", "closed_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="scheduling.rebooktask",
        object_id=task.appointment.public_id,
        patient_ids=[task.appointment.patient.public_id],
        changed_fields=["closed_at"],
        clinic=task.appointment.clinic_id,
    )
    return task
