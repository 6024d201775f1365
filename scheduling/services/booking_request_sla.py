"""A booking request's answer time and what happens past it: the deadline in the desk's
working minutes, the escalation of open requests left unanswered and the expiry of proposals
nobody took. The periodic functions run from `scheduling.tasks`, one transaction each."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications.services import outbox_enqueue
from portal.choices import AuditAction
from scheduling.choices import BookingRequestStatus as R
from scheduling.models import BookingPolicy, BookingRequest
from scheduling.services.booking_request_trail import request_audit, request_tell


def desk_deadline(
    *, policy: BookingPolicy, tz: Any, start: datetime.datetime, minutes: int
) -> datetime.datetime:
    """The instant `minutes` working minutes after `start`: minutes count only on the desk's
    working days between its opening and closing times, in the clinic's zone `tz` (the same
    opening and closing time: round the clock). A request left at night is due `minutes`
    after the desk opens."""
    days = set(policy.desk_days or range(7))
    opens, closes = policy.desk_opens, policy.desk_closes
    # A desk open past midnight closes the next day; the same times mean round the clock.
    spill = datetime.timedelta(days=0 if closes > opens else 1)
    until = opens if closes == opens else closes
    left = datetime.timedelta(minutes=minutes)
    # From the day before: its window may run past midnight into `start`.
    day = start.astimezone(tz).date() - datetime.timedelta(days=1)
    # Every week has a working day, so this ends within a week past the minutes needed.
    while True:
        if day.weekday() in days:
            window_start = datetime.datetime.combine(day, opens, tzinfo=tz)
            window_end = datetime.datetime.combine(day + spill, until, tzinfo=tz)
            begin = max(window_start, start)
            if begin < window_end:
                if begin + left <= window_end:
                    return (begin + left).astimezone(datetime.UTC)
                left -= window_end - begin
        day += datetime.timedelta(days=1)


@transaction.atomic
def booking_requests_escalate(*, now: datetime.datetime | None = None) -> int:
    """Flag open requests past their answer time, once each, and tell the clinic (its e-mail
    address, when it has one); the desk shows them first and in red. Returns how many."""
    now = now or timezone.now()
    overdue = list(
        BookingRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("clinic", "patient")
        .filter(status=R.OPEN, escalated=False, sla_due_at__lte=now)
    )
    for request in overdue:
        request.escalated = True
        request.escalated_at = now
        request.save(update_fields=["escalated", "escalated_at"])
        request_audit(request, None, AuditAction.UPDATE, ["escalated"])
        if request.clinic.email:
            # Staff read no patient data in it: the desk shows who it is.
            outbox_enqueue(
                event="booking_request.overdue",
                channel="email",
                to=request.clinic.email,
                context={
                    "clinic": request.clinic.name,
                    "request_id": str(request.public_id),
                    "created": request.created_at.astimezone(request.clinic.tz).isoformat(),
                },
                idempotency_key=f"booking_request.overdue:{request.public_id}",
                clinic=request.clinic_id,
            )
    return len(overdue)


@transaction.atomic
def booking_requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Close proposed requests whose every proposed time has begun without an answer, and
    tell the patient. Returns how many."""
    now = now or timezone.now()
    stale = (
        BookingRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("clinic", "patient")
        .filter(status=R.PROPOSED)
        .exclude(proposals__starts_at__gt=now)
    )
    count = 0
    for request in stale:
        request.status = R.EXPIRED
        request.expired_at = now
        request.save(update_fields=["status", "expired_at"])
        request_audit(request, None, AuditAction.UPDATE, ["status"])
        request_tell(request, "expired")
        count += 1
    return count
