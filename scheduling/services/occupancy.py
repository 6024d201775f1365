"""Writing occupancy rows, the ground truth of who is busy when.

One round trip takes a set of spans, on every backend alike: expired holds in the way are
deleted (a constraint cannot read the clock), the live rows in the way are looked for, and the
new rows are inserted. On PostgreSQL the exclusion constraint refuses an overlap that a
concurrent transaction has just committed; on SQLite the booking transaction holds the write
lock (BEGIN IMMEDIATE), so the look-up before the insert is enough. Callers may send the rest of
their change's writes in the same round trip (`then`).

The SQL here is composed of constants and `%s` placeholders only; every value is a parameter.
"""
# ruff: noqa: S608 - see the last paragraph above: no value is ever formatted into the text.

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import IntegrityError, OperationalError, transaction

from scheduling.choices import ResourceKind
from scheduling.db import db_datetime, insert_statement, run_batch
from scheduling.errors import SlotTaken
from scheduling.models import Occupancy

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


def _overlapping(spans: Sequence[Span]) -> tuple[str, list]:
    """SQL condition: an occupancy row (alias `o`) overlapping any of `spans`."""
    parts, params = [], []
    for span in spans:
        parts.append(
            "(o.resource_kind = %s AND o.resource_id = %s AND o.starts_at < %s AND o.ends_at > %s)"
        )
        params += [span.kind, span.resource_id, db_datetime(span.end), db_datetime(span.start)]
    return " OR ".join(parts), params


def occupancy_insert(
    *,
    spans: list[Span],
    clinic_id: int,
    now: datetime.datetime,
    appointment_id: int | None = None,
    hold_id: int | None = None,
    expires_at: datetime.datetime | None = None,
    conflict: type[Exception] = SlotTaken,
    then: Sequence[tuple[str, list]] = (),
    expired_holds_read: Sequence[tuple] | None = None,
) -> list[list[tuple]]:
    """Insert the rows for `spans`; raise `conflict` if any resource is busy then.

    Expired holds in the way are deleted in this transaction. The statements `then` run in the
    same round trip after the insert; their rows are returned. A conflict leaves the
    transaction to be rolled back (the callers' `conflicts_as_slot_taken` does).

    `expired_holds_read`: given when the caller has read, in this transaction, that nothing
    live is in the way, and the rows (kind, resource, start, end, hold) of expired holds around
    (`resolve_slot_with_quotas`); then only the holds among them in the way are deleted and
    nothing is looked up again.
    """
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
    if expired_holds_read is not None:
        in_the_way = sorted(
            {
                hold_id
                for kind, resource_id, held_from, held_until, hold_id in expired_holds_read
                if any(
                    s.kind == kind
                    and s.resource_id == resource_id
                    and held_from < s.end
                    and held_until > s.start
                    for s in spans
                )
            }
        )
        return _insert_where_known_free(rows, in_the_way, conflict, then)
    overlapping, overlap_params = _overlapping(spans)
    expired = db_datetime(now)
    # Holds go before their rows: the foreign key is checked at commit.
    statements = [
        (
            "DELETE FROM scheduling_hold WHERE expires_at <= %s AND id IN (SELECT o.hold_id"
            f" FROM scheduling_occupancy o WHERE o.expires_at <= %s AND ({overlapping}))",
            [expired, expired, *overlap_params],
        ),
        (
            "DELETE FROM scheduling_occupancy WHERE id IN (SELECT o.id FROM scheduling_occupancy o"
            f" WHERE o.expires_at <= %s AND ({overlapping}))",
            [expired, *overlap_params],
        ),
        (f"SELECT o.id FROM scheduling_occupancy o WHERE {overlapping}", overlap_params),
        insert_statement(rows),
        *then,
    ]
    results = _run(statements, conflict)
    if results[2]:
        raise conflict()
    return results[4:]


def _insert_where_known_free(rows, hold_ids, conflict, then) -> list[list[tuple]]:
    statements = []
    if hold_ids:
        marks = ", ".join(["%s"] * len(hold_ids))
        statements += [
            (f"DELETE FROM scheduling_hold WHERE id IN ({marks})", list(hold_ids)),
            (f"DELETE FROM scheduling_occupancy WHERE hold_id IN ({marks})", list(hold_ids)),
        ]
    statements += [insert_statement(rows), *then]
    return _run(statements, conflict)[len(statements) - len(then) :]


def _run(statements, conflict) -> list[list[tuple]]:
    try:
        return run_batch(statements)
    except IntegrityError as exc:
        if is_conflict(exc):
            raise conflict() from exc
        raise


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
