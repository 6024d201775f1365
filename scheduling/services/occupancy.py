"""Writing occupancy rows, the ground truth of who is busy when.

On PostgreSQL the exclusion constraint refuses an overlap, including one that a concurrent
transaction has just committed; on SQLite the booking transaction holds the write lock
(BEGIN IMMEDIATE), so a look-up before the insert is enough. Expired holds keep their rows (a
constraint cannot read the clock) until a booking that needs their time deletes them.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Collection, Sequence
from typing import ParamSpec, TypeVar

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from psycopg import errors as pg_errors

from scheduling.errors import BookingError, SlotTaken
from scheduling.models import Appointment, Hold, Occupancy
from scheduling.selectors.availability.busy import BusySpan

P = ParamSpec("P")
R = TypeVar("R")


def occupancy_take(
    *,
    spans: Sequence[BusySpan],
    clinic_id: int,
    now: datetime.datetime,
    appointment: Appointment | None = None,
    hold: Hold | None = None,
    expired_hold_ids: Collection[int] | None = None,
    conflict: type[BookingError] = SlotTaken,
) -> None:
    """Insert a row per span for `appointment` or `hold`; raise `conflict` if any resource is
    busy then (the callers' transaction is then rolled back).

    `expired_hold_ids`: given by callers that resolved the slot in this transaction
    (`resolve_slot_for_booking`), which has read that nothing live is in the way; only those
    expired holds are deleted. Without it the spans are checked here first.
    """
    if expired_hold_ids is None:
        _clear_the_way(spans, now=now, conflict=conflict)
    elif expired_hold_ids:
        Hold.objects.filter(pk__in=list(expired_hold_ids)).delete()
    rows = [
        Occupancy(
            resource_kind=span.kind,
            resource_id=span.resource_id,
            clinic_id=clinic_id,
            starts_at=span.start,
            ends_at=span.end,
            appointment=appointment,
            hold=hold,
            expires_at=hold.expires_at if hold is not None else None,
        )
        for span in spans
    ]
    try:
        Occupancy.objects.bulk_create(rows)
    except IntegrityError as exc:
        if is_conflict(exc):
            raise conflict() from exc
        raise


def occupancy_release(*, appointment: Appointment) -> None:
    """Free the appointment's time."""
    Occupancy.objects.filter(appointment=appointment).delete()


def _overlapping(spans: Sequence[BusySpan]) -> Q:
    condition = Q(pk__in=[])
    for span in spans:
        condition |= Q(
            resource_kind=span.kind,
            resource_id=span.resource_id,
            starts_at__lt=span.end,
            ends_at__gt=span.start,
        )
    return condition


def _clear_the_way(
    spans: Sequence[BusySpan], *, now: datetime.datetime, conflict: type[BookingError]
) -> None:
    """Delete expired holds overlapping `spans`; raise `conflict` if a live row does."""
    overlapping = Occupancy.objects.filter(_overlapping(spans))
    expired = overlapping.filter(expires_at__lte=now).values("hold_id")
    Hold.objects.filter(pk__in=expired).delete()
    if overlapping.exists():
        raise conflict()


def is_conflict(exc: BaseException) -> bool:
    """True for PostgreSQL exclusion violations, deadlocks and serialization failures (Django
    keeps the driver's error as the cause)."""
    return isinstance(
        exc.__cause__,
        pg_errors.ExclusionViolation | pg_errors.DeadlockDetected | pg_errors.SerializationFailure,
    )


def conflicts_as_slot_taken(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in one transaction; a constraint race or deadlock becomes `SlotTaken`.

    Concurrent conflicting inserts can end in a deadlock instead of the constraint error
    (DESIGN.md): both mean someone else won, and nothing of this call is kept.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except (IntegrityError, OperationalError) as exc:
            if is_conflict(exc):
                raise SlotTaken() from exc
            raise

    return wrapper
