"""Writing occupancy rows, the ground truth of who is busy when.

On PostgreSQL an exclusion constraint refuses overlapping rows of one resource; on SQLite the
booking transaction is serialized (BEGIN IMMEDIATE) and `occupancy_insert` checks for overlaps
itself before inserting.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q

from scheduling.choices import ResourceKind
from scheduling.errors import SlotTaken
from scheduling.models import Hold, Occupancy

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Span:
    kind: str
    resource_id: int
    start: datetime.datetime
    end: datetime.datetime


def spans_for(
    *,
    doctor_id: int,
    room_id: int | None,
    equipment_ids: Iterable[int],
    start: datetime.datetime,
    end: datetime.datetime,
    buffer_minutes: int,
) -> list[Span]:
    """The doctor is busy through the buffer after the visit; room and equipment are not."""
    spans = [
        Span(
            ResourceKind.DOCTOR,
            doctor_id,
            start,
            end + datetime.timedelta(minutes=buffer_minutes),
        )
    ]
    if room_id is not None:
        spans.append(Span(ResourceKind.ROOM, room_id, start, end))
    spans.extend(Span(ResourceKind.EQUIPMENT, e, start, end) for e in equipment_ids)
    return spans


def _overlapping(spans: Iterable[Span]) -> Q:
    q = Q(pk__in=[])
    for s in spans:
        q |= Q(
            resource_kind=s.kind,
            resource_id=s.resource_id,
            starts_at__lt=s.end,
            ends_at__gt=s.start,
        )
    return q


def clear_expired_holds(*, spans: list[Span], now: datetime.datetime) -> bool:
    """Delete expired holds in the way of `spans` (the constraint cannot read the clock);
    True if there were any."""
    hold_ids = set(
        Occupancy.objects.filter(_overlapping(spans), expires_at__lte=now).values_list(
            "hold_id", flat=True
        )
    )
    if hold_ids:
        Hold.objects.filter(pk__in=hold_ids).delete()
    return bool(hold_ids)


def _try_insert(rows: list[Occupancy]) -> IntegrityError | None:
    """Insert `rows` in a savepoint; the database's error if it refused them as a clash."""
    try:
        with transaction.atomic():
            Occupancy.objects.bulk_create(rows)
    except IntegrityError as exc:
        if is_conflict(exc):
            return exc
        raise
    return None


def occupancy_insert(
    *,
    spans: list[Span],
    clinic_id: int,
    now: datetime.datetime,
    appointment_id: int | None = None,
    hold_id: int | None = None,
    expires_at: datetime.datetime | None = None,
    conflict: type[Exception] = SlotTaken,
) -> None:
    """Insert the rows for `spans`; raise `conflict` if any resource is busy then.

    Expired holds in the way are deleted in this transaction, and only when something is in
    the way: on PostgreSQL when the constraint refuses the rows (then the insert is retried
    once), elsewhere when the check before inserting finds any overlapping row.
    """
    # SQLite: this transaction holds the write lock, so check-then-insert is safe here.
    if connection.vendor != "postgresql" and Occupancy.objects.filter(_overlapping(spans)).exists():
        clear_expired_holds(spans=spans, now=now)
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        if Occupancy.objects.filter(_overlapping(spans)).filter(live).exists():
            raise conflict()
    rows = [
        Occupancy(
            resource_kind=s.kind,
            resource_id=s.resource_id,
            clinic_id=clinic_id,
            starts_at=s.start,
            ends_at=s.end,
            appointment_id=appointment_id,
            hold_id=hold_id,
            expires_at=expires_at,
        )
        for s in spans
    ]
    clash = _try_insert(rows)
    if clash is not None and clear_expired_holds(spans=spans, now=now):
        clash = _try_insert(rows)  # once more, now that the expired holds are gone
    if clash is not None:
        raise conflict() from clash


def is_conflict(exc: BaseException) -> bool:
    """True for PostgreSQL exclusion violations, deadlocks and serialization failures."""
    try:
        from psycopg import errors as pg_errors
    except ImportError:  # pragma: no cover - psycopg is a hard dependency
        return False
    cause = exc.__cause__
    return isinstance(
        cause,
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
