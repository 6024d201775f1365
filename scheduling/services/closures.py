"""Closing a room or a piece of equipment for a while, and lifting the closure early.

While a closure is in force the booking engine treats the resource as busy (it reads closures
with the occupancy), so no slot that needs it is offered or booked. Visits already booked in
the closed time are handed to the registrar desk as rebooking tasks; the head nurse's page
lists them and can hand over again any booked since (`resource_closure_hand_over`).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.choices import RebookReason
from scheduling.errors import InvalidInput
from scheduling.models import Equipment, RebookTask, ResourceClosure, Room
from scheduling.selectors.closures import closure_affected
from scheduling.services.booking.guards import user_or_none
from scheduling.services.rebooking import MAX_DETAIL_LENGTH, rebook_tasks_open
from scheduling.services.waitlist_schedule import waitlist_watch_schedule

MAX_REASON_LENGTH = 200
# Longer than this is not a temporary closure: deactivate the room or device instead.
MAX_CLOSURE = datetime.timedelta(days=366)


def _check_period(starts_at: object, ends_at: object, *, now: datetime.datetime) -> None:
    for value in (starts_at, ends_at):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            raise InvalidInput(_("Give the start and end as a date and time."), code="naive")
    assert isinstance(starts_at, datetime.datetime)  # noqa: S101 - checked above
    assert isinstance(ends_at, datetime.datetime)  # noqa: S101 - checked above
    if ends_at <= starts_at:
        raise InvalidInput(_("The end must be after the start."), code="ends_before_start")
    if ends_at <= now:
        raise InvalidInput(_("This period is already over."), code="in_the_past")
    if ends_at - starts_at > MAX_CLOSURE:
        raise InvalidInput(
            _("A closure lasts at most a year; deactivate the room or device instead."),
            code="too_long",
        )


def _detail(closure: ResourceClosure) -> str:
    """The desk's line for the visits of a closure: what is closed and why."""
    text = _("%(resource)s closed: %(reason)s") % {
        "resource": closure.resource.name,
        "reason": closure.reason,
    }
    return text[:MAX_DETAIL_LENGTH]


@transaction.atomic
def resource_closure_create(
    *,
    clinic: Clinic,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str,
    actor: Actor,
    room: Room | None = None,
    equipment: Equipment | None = None,
) -> tuple[ResourceClosure, list[RebookTask]]:
    """Close one room or one piece of equipment of `clinic` over `[starts_at, ends_at)`;
    the closure and the rebooking tasks opened for the visits booked in that time.

    Invariants: exactly one resource, of this clinic; an aware period that ends after it
    starts, is not over yet and lasts at most a year; a reason; no overlap with a closure of
    the same resource still in force. `InvalidInput` otherwise, and nothing is written.
    """
    now = timezone.now()
    if (room is None) == (equipment is None):
        raise InvalidInput(_("Choose one room or one piece of equipment."), code="resource")
    resource = room if room is not None else equipment
    assert resource is not None  # noqa: S101 - checked above
    if resource.clinic_id != clinic.pk:
        raise InvalidInput(_("This room or device is in another clinic."), code="other_clinic")
    _check_period(starts_at, ends_at, now=now)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _("Say why in at most %(max)d characters.") % {"max": MAX_REASON_LENGTH},
            code="reason",
        )
    # Lock the resource's row: two closures of it are created one after the other.
    list(type(resource).objects.select_for_update().filter(pk=resource.pk).values_list("pk"))
    overlapping = ResourceClosure.objects.filter(
        room=room,
        equipment=equipment,
        lifted_at__isnull=True,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if overlapping.exists():
        raise InvalidInput(
            _("This room or device is already closed for part of this time."), code="overlap"
        )
    closure = ResourceClosure.objects.create(
        clinic=clinic,
        room=room,
        equipment=equipment,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=user_or_none(actor),
        created_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="scheduling.resourceclosure",
        object_id=closure.pk,
        changed_fields=["room" if room is not None else "equipment", "starts_at", "ends_at"],
        clinic=clinic,
    )
    return closure, resource_closure_hand_over(closure=closure, actor=actor)


@transaction.atomic
def resource_closure_hand_over(*, closure: ResourceClosure, actor: Actor) -> list[RebookTask]:
    """Open a rebooking task for each visit still waiting in the closed time that has none
    open (`rebook_tasks_open`); the tasks opened. A lifted closure hands over nothing."""
    if closure.lifted_at is not None:
        return []
    return rebook_tasks_open(
        appointments=closure_affected(closure=closure, now=timezone.now()),
        reason=RebookReason.CLOSURE,
        detail=_detail(closure),
        actor=actor,
    )


@transaction.atomic
def resource_closure_lift(*, closure: ResourceClosure, actor: Actor) -> ResourceClosure:
    """End a closure now: its room or device is bookable again at once. Lifting a lifted
    closure changes nothing; one already over cannot be lifted (`InvalidInput`). Rebooking
    tasks already opened stay with the desk, which closes them; the times it kept closed go
    to the waiting list (`waitlist_schedule`)."""
    now = timezone.now()
    closure = ResourceClosure.objects.select_for_update().get(pk=closure.pk)
    if closure.lifted_at is not None:
        return closure
    if closure.ends_at <= now:
        raise InvalidInput(_("This closure is already over."), code="over")
    # The times it kept closed are offered to the waiting list once this commits.
    clinic = closure.clinic
    waitlist_watch_schedule(
        clinics=[clinic],
        doctor=None,
        first=now.astimezone(clinic.tz).date(),
        last=closure.ends_at.astimezone(clinic.tz).date(),
        now=now,
    )
    closure.lifted_at = now
    closure.lifted_by = user_or_none(actor)
    closure.save(update_fields=["lifted_at", "lifted_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="scheduling.resourceclosure",
        object_id=closure.pk,
        changed_fields=["lifted_at"],
        clinic=closure.clinic_id,
    )
    return closure
