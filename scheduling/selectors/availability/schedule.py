"""Who works when: weekly rules, exceptions and substitutions turned into candidate starts.

Pure arithmetic on rows already loaded (`loading.py`); nothing here touches the database.
Windows are wall-clock minutes of one local day in the clinic's zone; candidates are UTC
instants, so a DST gap yields no start and a fold yields one start per real instant.
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from scheduling.choices import ABSENCE_KINDS, ExceptionKind

from .clock import UTC, exists, fixed_offset, is_ambiguous, local_time, minutes_of


class Rule(NamedTuple):
    """A weekly rule as loaded (`ScheduleRule` columns by name)."""

    doctor_id: int
    clinic_id: int
    weekday: int
    valid_from: datetime.date
    valid_until: datetime.date | None
    start_time: datetime.time
    end_time: datetime.time
    slot_step_minutes: int
    buffer_minutes: int
    room_id: int | None
    room_public_id: uuid.UUID | None
    breaks: list[list[str]]

    def applies_on(self, day: datetime.date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class ScheduleChange(NamedTuple):
    """An absence or extra hours as loaded (`ScheduleException` columns by name)."""

    doctor_id: int
    clinic_id: int | None
    kind: str
    date_from: datetime.date
    date_to: datetime.date
    start_time: datetime.time | None
    end_time: datetime.time | None
    slot_step_minutes: int
    room_id: int | None
    room_public_id: uuid.UUID | None


class StandIn(NamedTuple):
    """On `date`, in `clinic_id`, `substitute_id` works the hours of `absent_doctor_id`."""

    absent_doctor_id: int
    clinic_id: int
    date: datetime.date
    substitute_id: int


class Window(NamedTuple):
    """A working window in wall-clock minutes of one local day."""

    start: int
    end: int
    step: int
    buffer: int
    room_id: int | None


class Candidate(NamedTuple):
    """A start the schedule allows, before occupancy, quotas and policy are checked."""

    doctor_id: int
    clinic_id: int
    day: datetime.date  # the clinic's local day
    start: datetime.datetime  # UTC
    end: datetime.datetime  # UTC
    buffer: int
    rule_room_id: int | None


def subtract(windows: list[Window], lo: int, hi: int) -> list[Window]:
    """`windows` without the minutes `[lo, hi)`."""
    out: list[Window] = []
    for w in windows:
        if hi <= w.start or lo >= w.end:
            out.append(w)
            continue
        if w.start < lo:
            out.append(w._replace(end=lo))
        if hi < w.end:
            out.append(w._replace(start=hi))
    return out


def days_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def _rule_windows(rule: Rule) -> list[Window]:
    windows = [
        Window(
            minutes_of(rule.start_time),
            minutes_of(rule.end_time),
            rule.slot_step_minutes,
            rule.buffer_minutes,
            rule.room_id,
        )
    ]
    for start, end in rule.breaks or []:
        windows = subtract(
            windows,
            minutes_of(datetime.time.fromisoformat(start)),
            minutes_of(datetime.time.fromisoformat(end)),
        )
    return windows


def working_windows(
    *,
    days: list[datetime.date],
    doctor_ids: Iterable[int],
    rules: Iterable[Rule],
    changes: Iterable[ScheduleChange],
    stand_ins: Iterable[StandIn],
) -> dict[tuple[int, int, datetime.date], list[Window]]:
    """Working windows per (doctor, clinic, local day) of `doctor_ids`, after substitutions,
    extra hours and absences (in that order: an absence also removes extra hours)."""
    wanted = set(doctor_ids)
    changes = list(changes)
    worker_of = {(s.absent_doctor_id, s.clinic_id, s.date): s.substitute_id for s in stand_ins}
    windows: dict[tuple[int, int, datetime.date], list[Window]] = defaultdict(list)
    for rule in rules:
        base = _rule_windows(rule)
        for day in days:
            if not rule.applies_on(day):
                continue
            worker = worker_of.get((rule.doctor_id, rule.clinic_id, day), rule.doctor_id)
            if worker in wanted:
                windows[(worker, rule.clinic_id, day)].extend(base)
    for change in changes:
        if change.kind != ExceptionKind.EXTRA_HOURS or change.clinic_id is None:
            continue
        assert change.start_time is not None and change.end_time is not None  # noqa: S101 - a constraint
        extra = Window(
            minutes_of(change.start_time),
            minutes_of(change.end_time),
            change.slot_step_minutes,
            0,
            change.room_id,
        )
        for day in days:
            if change.date_from <= day <= change.date_to:
                windows[(change.doctor_id, change.clinic_id, day)].append(extra)
    for change in changes:
        if change.kind in ABSENCE_KINDS:
            _apply_absence(windows, change)
    return windows


def _apply_absence(
    windows: dict[tuple[int, int, datetime.date], list[Window]], absence: ScheduleChange
) -> None:
    for key in list(windows):
        doctor_id, clinic_id, day = key
        if doctor_id != absence.doctor_id or not absence.date_from <= day <= absence.date_to:
            continue
        if absence.clinic_id is not None and absence.clinic_id != clinic_id:
            continue
        if absence.start_time is None or absence.end_time is None:
            windows[key] = []
        else:
            windows[key] = subtract(
                windows[key], minutes_of(absence.start_time), minutes_of(absence.end_time)
            )


def candidates(
    windows: Mapping[tuple[int, int, datetime.date], list[Window]],
    *,
    zones: Mapping[int, zoneinfo.ZoneInfo],
    duration: datetime.timedelta,
) -> Iterator[Candidate]:
    """Every start the windows allow for a visit of `duration`, in UTC."""
    minute = datetime.timedelta(minutes=1)
    for (doctor_id, clinic_id, day), day_windows in windows.items():
        tz = zones[clinic_id]
        offset = fixed_offset(day, tz)
        if offset is None:
            yield from _candidates_on_a_clock_change(
                doctor_id, clinic_id, day, day_windows, tz, duration
            )
            continue
        # No clock change on this day: every wall-clock minute is one instant.
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) - offset
        for w in day_windows:
            hi = midnight + w.end * minute
            for minutes in range(w.start, w.end, w.step):
                start = midnight + minutes * minute
                end = start + duration
                if end <= hi:
                    yield Candidate(doctor_id, clinic_id, day, start, end, w.buffer, w.room_id)


def _candidates_on_a_clock_change(
    doctor_id: int,
    clinic_id: int,
    day: datetime.date,
    day_windows: list[Window],
    tz: zoneinfo.ZoneInfo,
    duration: datetime.timedelta,
) -> Iterator[Candidate]:
    """Candidates of a day with a DST transition: gaps skipped, folds give two instants."""
    for w in day_windows:
        # Conservative bounds: a start in a gap begins after it, an end in a fold is its later
        # instant, an end in a gap is its earlier one.
        lo = local_time(day, w.start, tz, 0).astimezone(UTC)
        hi = local_time(day, w.end, tz, 1).astimezone(UTC)
        for minutes in range(w.start, w.end, w.step):
            local = local_time(day, minutes, tz, 0)
            if not exists(local):
                continue
            for fold in (0, 1) if is_ambiguous(local) else (0,):
                start = local.replace(fold=fold).astimezone(UTC)
                end = start + duration
                if start >= lo and end <= hi:
                    yield Candidate(doctor_id, clinic_id, day, start, end, w.buffer, w.room_id)
