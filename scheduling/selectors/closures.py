"""Closures of rooms and equipment: those of a clinic, and the visits one affects."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from portal import permissions
from portal.models import Clinic
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment, ResourceClosure

# Visits a closure affects: booked or confirmed, not yet begun (checked-in ones are under way).
AFFECTED_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


def closure_affected(*, closure: ResourceClosure, now: datetime.datetime) -> list[Appointment]:
    """Visits still waiting that need the closed room or device while it is closed, from now
    on, by start; with what the desk's task and the page show of them (one query)."""
    since = max(closure.starts_at, now)
    if closure.lifted_at is not None or closure.ends_at <= since:
        return []
    uses = Q(room_id=closure.room_id) if closure.room_id else Q(equipment=closure.equipment_id)
    return list(
        Appointment.objects.filter(
            uses,
            clinic_id=closure.clinic_id,
            status__in=AFFECTED_STATUSES,
            starts_at__lt=closure.ends_at,
            ends_at__gt=since,
        )
        .select_related("patient", "doctor", "service", "clinic")
        .order_by("starts_at", "pk")
        .distinct()
    )


def clinic_closures(
    *, clinic: Clinic, now: datetime.datetime
) -> tuple[list[ResourceClosure], list[ResourceClosure]]:
    """The clinic's closures in force or ahead, by start, and the last few that ended or were
    lifted (most recent first): one query."""
    rows = list(
        ResourceClosure.objects.filter(clinic=clinic)
        .filter(Q(ends_at__gt=now - datetime.timedelta(days=30)))
        .select_related("room", "equipment", "equipment__type", "created_by")
        .order_by("starts_at", "pk")
    )
    current = [c for c in rows if c.lifted_at is None and c.ends_at > now]
    past = [c for c in rows if c not in current]
    past.sort(key=lambda c: c.lifted_at or c.ends_at, reverse=True)
    return current, past[:10]


def get_closure_for_user(user: Any, pk: Any) -> ResourceClosure:
    """A closure in a clinic where `user` sees schedules; 404 for any other or unknown id."""
    clinic_ids = permissions.clinic_ids_with(user, "schedule.view")
    qs: QuerySet[ResourceClosure] = ResourceClosure.objects.select_related(
        "clinic", "room", "equipment", "created_by", "lifted_by"
    )
    if clinic_ids is not None:
        qs = qs.filter(clinic_id__in=clinic_ids)
    try:
        return qs.get(pk=pk)
    except ResourceClosure.DoesNotExist as exc:
        raise Http404 from exc
