"""Read paths of the desk's queues: the rebooking tasks other workplaces handed to the desk
(a closed room, a doctor away).

Scoped by `appointment.book`: registrars, clinic admins and network admins of the task's
clinic. A task whose visit no longer waits (cancelled, begun, or moved since the task was
opened) is done in fact, so the queue leaves it out whether or not anyone closed it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from scheduling.choices import AppointmentStatus
from scheduling.models import AppointmentMove, RebookTask

CAPABILITY = "appointment.book"
TASK_LIMIT = 200
# Visits still to happen and not begun: the only ones the desk can still move.
WAITING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def rebook_tasks_visible_to(user: Any) -> QuerySet[RebookTask]:
    """Rebooking tasks of the clinics where `user` books."""
    qs = RebookTask.objects.all()
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    return qs if ids is None else qs.filter(appointment__clinic_id__in=ids)


def _waiting(qs: QuerySet[RebookTask]) -> QuerySet[RebookTask]:
    moved_since = AppointmentMove.objects.filter(
        appointment_id=OuterRef("appointment_id"), moved_at__gt=OuterRef("created_at")
    )
    return qs.filter(closed_at__isnull=True, appointment__status__in=WAITING_STATUSES).exclude(
        Exists(moved_since)
    )


def get_rebook_task_for_user(user: Any, pk: int) -> RebookTask:
    """The task `pk` if it is in one of `user`'s clinics; 403 for those who book nowhere, 404
    for an unknown or foreign one."""
    permissions.require_capability(user, CAPABILITY)
    found = (
        rebook_tasks_visible_to(user).select_related("appointment__patient").filter(pk=pk).first()
    )
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class RebookRow:
    task: RebookTask
    start: datetime.datetime  # the visit's time in its clinic's zone


def open_rebook_tasks(*, user: Any) -> list[RebookRow]:
    """Open tasks of the user's clinics whose visit still waits, the soonest visit first.
    Showing the patients' names is a list view of their data, audited."""
    permissions.require_capability(user, CAPABILITY)
    tasks = list(
        _waiting(rebook_tasks_visible_to(user))
        .select_related(
            "appointment__patient",
            "appointment__doctor",
            "appointment__service",
            "appointment__clinic",
        )
        .order_by("appointment__starts_at", "pk")[:TASK_LIMIT]
    )
    if tasks:
        audit_record(
            actor=user,
            action=AuditAction.LIST,
            object_type="scheduling.rebooktask",
            patient_ids=sorted({str(t.appointment.patient.public_id) for t in tasks}),
            changed_fields=["rebook_tasks"],
        )
    return [
        RebookRow(
            task=t,
            start=t.appointment.starts_at.astimezone(t.appointment.clinic.tz),
        )
        for t in tasks
    ]


def open_rebook_task_count(*, user: Any, clinic: Clinic) -> int | None:
    """How many visits of `clinic` wait for the desk to rebook; None for those who do not
    book there (nothing to show them)."""
    if not permissions.has_capability(user, CAPABILITY, clinic):
        return None
    return _waiting(RebookTask.objects.filter(appointment__clinic=clinic)).count()
