"""Free slots: the one source of bookable times.

A range's rules, exceptions, substitutions, occupancy (appointments and live holds), rooms,
equipment, quotas and counters are loaded in a fixed handful of plain statements, whatever the
range, sent in two round trips (`range_queries.py`); everything else is arithmetic in memory,
in each clinic's own time zone. Wall-clock times that do not exist (a DST gap) are never
slots; wall-clock times that happen twice (a DST fold) are two slots, one per real instant.
Times are stored and compared in UTC.

Booking services call `resolve_slot`, which runs the very same computation for one start, so
nothing can be booked that `free_slots` would not offer.
"""

from __future__ import annotations

import bisect
import datetime
import json
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import (
    ABSENCE_KINDS,
    APPOINTMENT_CHANNELS,
    QUOTA_CHANNEL_OF,
    SELF_SERVICE_CHANNELS,
    AppointmentChannel,
    BookingMode,
    ExceptionKind,
    ResourceKind,
)
from scheduling.db import as_uuid, aware_datetimes, run_batch
from scheduling.errors import (
    BookingError,
    InvalidInput,
    OutsideBookingWindow,
    QuotaExceeded,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import BookingPolicy, Doctor, Quota, Service, Specialty
from scheduling.selectors.range_queries import QUOTA_FIELDS, RangeQueries
from scheduling.slot_ids import SlotIdMaker

UTC = datetime.UTC
MAX_RANGE_DAYS = 62
# The engine pads a range by a few days either side (time zones, buffers); the calendar's first
# and last days cannot be padded, and no clinic books anywhere near them.
EARLIEST_DATE = datetime.date.min + datetime.timedelta(days=7)
LATEST_DATE = datetime.date.max - datetime.timedelta(days=7)
_DEFAULT_POLICY = BookingPolicy()


@dataclass(frozen=True)
class Slot:
    """One bookable time of one doctor for one service in one clinic."""

    slot_id: str
    doctor_id: int
    doctor_public_id: uuid.UUID
    clinic_id: int
    clinic_public_id: uuid.UUID
    service_id: int
    service_public_id: uuid.UUID
    # Aware, in the clinic's zone. Compare or sort them via `.astimezone(UTC)`: Python compares
    # datetimes of one zone by wall clock, which is wrong on the day clocks go back.
    start: datetime.datetime
    end: datetime.datetime
    room_id: int | None
    equipment_ids: tuple[int, ...]
    buffer_minutes: int
    room_public_id: uuid.UUID | None = None

    @property
    def start_utc(self) -> datetime.datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime.datetime:
        return self.end.astimezone(UTC)


class FirstRound(NamedTuple):
    """The engine's first round trip for resolving one start (who works when), read ahead by
    the caller in a round trip it makes anyway (`first_round_statements`). `key` says for what
    it was read; `_resolve` uses the rows only for the same service, doctor, clinic and days."""

    key: tuple
    rows: list[list[tuple]]


class Resolution(NamedTuple):
    """A slot resolved for booking, read in the booking's transaction.

    `expired_holds`: the rows (kind, resource, start, end, hold) of holds past their expiry
    that the engine read around the slot. It counts them as free, the exclusion constraint does
    not (it cannot read the clock), so the booking deletes those in its way before taking the
    time (`occupancy_insert`). Nothing live is in the way as of this read: on SQLite the
    transaction holds the write lock, so none can appear before the booking commits; on
    PostgreSQL the constraint refuses one that a concurrent booking commits.
    """

    slot: Slot
    quotas: list[Quota]
    expired_holds: list[tuple]
    # The rows of the caller's `also` statements, read in the engine's second round trip.
    also_rows: list[list[tuple]]


def parse_date(value: datetime.date | str, *, name: str = "date") -> datetime.date:
    """A `date` from a date or an ISO string, between `EARLIEST_DATE` and `LATEST_DATE`;
    anything else raises `InvalidInput`."""
    if isinstance(value, datetime.datetime):
        raise InvalidInput(code="invalid_date", field=name)
    if isinstance(value, datetime.date):
        day = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError as exc:
            raise InvalidInput(code="invalid_date", field=name) from exc
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidInput(code="invalid_date", field=name)
    return day


def free_slots(
    *,
    service: Service,
    doctor: Doctor | None = None,
    specialty: Specialty | None = None,
    clinic: Clinic | None = None,
    channel: str = AppointmentChannel.ONLINE,
    start_date: datetime.date | str,
    end_date: datetime.date | str,
    quota_channel: str | None = None,
    now: datetime.datetime | None = None,
) -> list[Slot]:
    """Every bookable slot of `service` from `start_date` to `end_date` (local dates, inclusive).

    Narrowed to one `doctor`, or to doctors of one `specialty`, and to one `clinic`; otherwise
    the whole network. Honours schedule rules, breaks, buffers, exceptions, substitutions,
    occupancy (appointments and unexpired holds), rooms, equipment, quotas of the channel and
    the clinic's booking policy. Sorted by start, then doctor. Runs a fixed number of queries.
    """
    first = parse_date(start_date, name="start_date")
    last = parse_date(end_date, name="end_date")
    if last < first:
        raise InvalidInput(code="invalid_range")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(code="range_too_long", max_days=MAX_RANGE_DAYS)
    engine = _Engine.load(
        service=service,
        doctor=doctor,
        specialty=specialty,
        clinic=clinic,
        channel=channel,
        quota_channel=quota_channel,
        first=first,
        last=last,
        now=now or timezone.now(),
    )
    evaluate = engine.evaluate
    found = [
        (c.start, c.doctor_id, c.clinic_id, s)
        for c in engine.candidates()
        if type(s := evaluate(c)) is Slot
    ]
    # Sort by instant (the candidate's UTC start): same-zone aware datetimes compare by wall
    # clock, ignoring `fold`. The sort is stable, so equal keys keep the engine's order.
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found]


def resolve_slot(
    *,
    service: Service,
    doctor: Doctor,
    start: datetime.datetime,
    clinic: Clinic | None = None,
    channel: str = AppointmentChannel.ONLINE,
    quota_channel: str | None = None,
    now: datetime.datetime | None = None,
    ignore_hold_id: int | None = None,
    ignore_appointment: Any = None,
) -> Slot:
    """The slot starting exactly at `start`, or the domain error saying why it is not one.

    The same computation as `free_slots`, for the local day(s) around `start`. Holds and the
    appointment named by `ignore_*` do not count as occupying (the caller is replacing them).
    """
    return _resolve(
        service=service,
        doctor=doctor,
        start=start,
        clinic=clinic,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
        ignore_hold_id=ignore_hold_id,
        ignore_appointment=ignore_appointment,
    )[0]


# How far past a visit's end `_resolve` reads what is taken: covers any sensible buffer; a slot
# whose buffer reaches further is checked again against the whole range.
BUSY_MARGIN = datetime.timedelta(hours=12)


def resolve_slot_with_quotas(
    *,
    service: Service,
    doctor: Doctor,
    start: datetime.datetime,
    clinic: Clinic | None = None,
    channel: str = AppointmentChannel.ONLINE,
    quota_channel: str | None = None,
    now: datetime.datetime | None = None,
    ignore_hold_id: int | None = None,
    also: Callable[[Collection[int]], list[tuple[str, list]]] | None = None,
    first_round: FirstRound | None = None,
) -> Resolution:
    """`resolve_slot`, with what the engine has loaded already that a booking needs: the
    quotas of the quota channel that apply to the slot (its clinic, doctor and service) and
    the expired holds in the slot's way (see `Resolution`).

    `also`: given the ids of the clinics where the doctor may work then (the slot's among
    them), the caller's own statements to send with the engine's second round trip; their rows
    come back as `Resolution.also_rows`. They are not sent when no schedule applies.
    `first_round`: the engine's first round trip, read ahead (see `FirstRound`)."""
    slot, engine = _resolve(
        service=service,
        doctor=doctor,
        start=start,
        clinic=clinic,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
        ignore_hold_id=ignore_hold_id,
        ignore_appointment=None,
        with_expired_holds=True,
        also=also,
        first_round=first_round,
    )
    return Resolution(
        slot=slot,
        quotas=engine._quotas_of(slot.clinic_id, slot.doctor_id),
        expired_holds=engine.expired_holds,
        also_rows=engine.also_rows,
    )


def _resolve(
    *,
    service,
    doctor,
    start,
    clinic,
    channel,
    quota_channel,
    now,
    ignore_hold_id,
    ignore_appointment,
    with_expired_holds=False,
    also=None,
    first_round=None,
) -> tuple[Slot, _Engine]:
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise InvalidInput(code="naive_datetime", field="start")
    if start.date() > LATEST_DATE:
        # Checked first: converting such a start to UTC can overflow the calendar.
        raise OutsideBookingWindow(code="beyond_horizon")
    if isinstance(start.tzinfo, zoneinfo.ZoneInfo) and not _exists(start):
        raise SlotUnavailable(code="dst_gap")
    now = now or timezone.now()
    if start <= now:
        raise OutsideBookingWindow(code="in_the_past")
    # Compare instants in UTC: PEP 495 makes `==` false across zones for times in a fold.
    start = start.astimezone(UTC)
    first, last = _days_around(start)
    # Only what is taken around `start` can refuse it: read the occupancy of a window wide
    # enough for any visit and buffer, and again without one in the unlikely case that the
    # slot found reaches past it.
    window = (start, start + datetime.timedelta(minutes=service.duration_minutes) + BUSY_MARGIN)
    key = _first_round_key(service.pk, doctor.pk, getattr(clinic, "pk", None), first, last)
    read_ahead = first_round.rows if first_round is not None and first_round.key == key else None

    def load(busy_window, also) -> _Engine:
        return _Engine.load(
            service=service,
            doctor=doctor,
            specialty=None,
            clinic=clinic,
            channel=channel,
            quota_channel=quota_channel,
            first=first,
            last=last,
            now=now,
            ignore_hold_id=ignore_hold_id,
            ignore_appointment=ignore_appointment,
            with_expired_holds=with_expired_holds,
            also=also,
            busy_window=busy_window,
            first_round=read_ahead,
        )

    engine = load(window, also)
    slot = _evaluate_start(engine, start=start, doctor_id=doctor.pk)
    busy_until = slot.end.astimezone(UTC) + datetime.timedelta(minutes=slot.buffer_minutes)
    if busy_until > window[1]:
        # The caller's `also` rows do not depend on the window: keep the first answers.
        also_rows = engine.also_rows
        engine = load(None, None)
        engine.also_rows = also_rows
        slot = _evaluate_start(engine, start=start, doctor_id=doctor.pk)
    return slot, engine


def _days_around(start: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The dates resolving `start` (UTC) loads: a day either side of its UTC date covers every
    zone's local date of this instant."""
    utc_day = start.date()
    return utc_day - datetime.timedelta(days=1), utc_day + datetime.timedelta(days=1)


def _first_round_key(service_id, doctor_id, clinic_id, first, last) -> tuple:
    return ("resolve", service_id, doctor_id, clinic_id, first, last)


def first_round_statements(
    *, service_id: int, doctor_id: int, start: datetime.datetime, clinic_id: int | None = None
) -> tuple[tuple, list[tuple[str, list]]]:
    """The statements of the engine's first round trip for resolving `start` (aware) with this
    service, doctor and clinic, and the key `resolve_slot_with_quotas` knows their rows by
    (`FirstRound`): a caller may send them ahead, in a round trip it makes anyway. They read
    who works when, not what is taken: what the booking's transaction must see for itself
    (occupancy, quotas) is read inside it."""
    first, last = _days_around(start.astimezone(UTC))
    params = RangeQueries(
        service_id=service_id,
        doctor_id=doctor_id,
        specialty_id=None,
        clinic_id=clinic_id,
        first=first,
        last=last,
    )
    return _first_round_key(service_id, doctor_id, clinic_id, first, last), params.first_round()


def _evaluate_start(engine: _Engine, *, start: datetime.datetime, doctor_id: int) -> Slot:
    """The doctor's slot at `start` (UTC), or the domain error of its first refusal."""
    matches = [c for c in engine.candidates() if c.start == start and c.doctor_id == doctor_id]
    if not matches:
        raise SlotUnavailable(code="not_a_slot")
    refusal: _Refusal | None = None
    for candidate in matches:
        result = engine.evaluate(candidate)
        if type(result) is Slot:
            return result
        refusal = refusal or result
    assert refusal is not None  # noqa: S101 - matches is non-empty
    raise refusal.error()


# --- Internals ---------------------------------------------------------------------------------


def _live_and_expired(rows, *, with_expiry: bool, now) -> tuple[list[tuple], list[tuple]]:
    """Occupancy rows (`RangeQueries.occupancy`) as the live spans (kind, resource, start,
    end) and, with `with_expiry`, the expired holds' rows (the same and the hold)."""
    if not with_expiry:
        return aware_datetimes(rows, (2, 3)), []
    live, expired = [], []
    for row in aware_datetimes(rows, (2, 3, 5)):
        expires_at = row[5]
        if expires_at is not None and expires_at <= now:
            expired.append(row[:5])
        else:
            live.append(row[:4])
    return live, expired


def _credit_own_quota(appointment, quotas, counters, quota_channel) -> None:
    """A moved appointment does not compete with itself for its own day's quota."""
    if appointment.quota_channel != quota_channel:
        return
    day = appointment.starts_at.astimezone(appointment.clinic.tz).date()
    for quota in quotas.get(appointment.clinic_id, ()):
        if quota.matches(doctor_id=appointment.doctor_id, service_id=appointment.service_id):
            key = (quota.pk, day)
            if key in counters:
                counters[key] -= 1


class _Refusal(NamedTuple):
    """Why a candidate is not a slot; the translated domain error is built only when raised."""

    error_class: type[BookingError]
    code: str | None = None

    def error(self) -> BookingError:
        return self.error_class(code=self.code) if self.code else self.error_class()


_NOT_NATIVE = _Refusal(SlotUnavailable, "clinic_not_native")
_IN_THE_PAST = _Refusal(OutsideBookingWindow, "in_the_past")
_MIN_NOTICE = _Refusal(OutsideBookingWindow, "min_notice")
_BEYOND_HORIZON = _Refusal(OutsideBookingWindow, "beyond_horizon")
_QUOTA_EXCEEDED = _Refusal(QuotaExceeded)
_TAKEN = _Refusal(SlotTaken)
_NO_ROOM = _Refusal(SlotUnavailable, "no_room")
_ROOM_TAKEN = _Refusal(SlotTaken, "room_taken")
_NO_EQUIPMENT = _Refusal(SlotUnavailable, "no_equipment")
_EQUIPMENT_TAKEN = _Refusal(SlotTaken, "equipment_taken")


class _ClinicInfo(NamedTuple):
    """What the engine needs of a clinic and its booking policy (defaults without a row)."""

    tz: zoneinfo.ZoneInfo
    public_id: uuid.UUID
    native: bool
    min_notice_minutes: int
    horizon_days: int


def _clinic_info(timezone_name, public_id, mode, min_notice, horizon) -> _ClinicInfo:
    if mode is None:  # no policy row: the defaults (the joined columns are all NULL)
        mode = _DEFAULT_POLICY.mode
        min_notice = _DEFAULT_POLICY.min_notice_minutes
        horizon = _DEFAULT_POLICY.horizon_days
    return _ClinicInfo(
        zoneinfo.ZoneInfo(timezone_name),
        as_uuid(public_id),
        mode == BookingMode.NATIVE,
        min_notice,
        horizon,
    )


class _Rule(NamedTuple):
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
    breaks: list

    def applies_on(self, day: datetime.date) -> bool:
        # The one definition of when a weekly rule applies (rules are loaded as plain rows).
        return (
            day.weekday() == self.weekday
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class _Exception(NamedTuple):
    doctor_id: int
    clinic_id: int | None
    kind: str
    date_from: datetime.date
    date_to: datetime.date
    start_time: datetime.time | None
    end_time: datetime.time | None
    slot_step_minutes: int
    room_id: int | None


class _Substitution(NamedTuple):
    absent_doctor_id: int
    clinic_id: int
    date: datetime.date
    substitute_id: int


class _Candidate(NamedTuple):
    doctor_id: int
    clinic_id: int
    day: datetime.date
    start: datetime.datetime  # UTC
    end: datetime.datetime
    buffer: int
    rule_room_id: int | None


@dataclass(frozen=True)
class _Window:
    """A working window in wall-clock minutes of one local day."""

    start: int
    end: int
    step: int
    buffer: int
    room_id: int | None


def _subtract(windows: list[_Window], lo: int, hi: int) -> list[_Window]:
    out: list[_Window] = []
    for w in windows:
        if hi <= w.start or lo >= w.end:
            out.append(w)
            continue
        if w.start < lo:
            out.append(_Window(w.start, lo, w.step, w.buffer, w.room_id))
        if hi < w.end:
            out.append(_Window(hi, w.end, w.step, w.buffer, w.room_id))
    return out


def _minutes(t: datetime.time) -> int:
    return t.hour * 60 + t.minute


def _local(day: datetime.date, minutes: int, tz: zoneinfo.ZoneInfo, fold: int) -> datetime.datetime:
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz, fold=fold)


def _exists(local: datetime.datetime) -> bool:
    """False for a wall-clock time skipped by a DST gap."""
    tz = local.tzinfo
    return local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None)


def _is_ambiguous(local: datetime.datetime) -> bool:
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def _fixed_offset(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.timedelta | None:
    """The UTC offset of the whole local `day`, or None when the clocks change on it.

    Offsets at the day's start and at the next day's start, each for both folds: a transition
    on the day (or at either midnight) makes them differ.
    """
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
    end = start + datetime.timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    offset = start.utcoffset()
    for moment in (start.replace(fold=1), end, end.replace(fold=1)):
        if moment.utcoffset() != offset:
            return None
    return offset


class _Busy:
    """Busy intervals per resource, answering overlap queries by bisection."""

    def __init__(self, rows: Iterable[tuple[str, int, datetime.datetime, datetime.datetime]]):
        grouped: dict[tuple[str, int], list[tuple[datetime.datetime, datetime.datetime]]] = (
            defaultdict(list)
        )
        for kind, rid, start, end in rows:
            grouped[(kind, rid)].append((start, end))
        self._starts: dict[tuple[str, int], list[datetime.datetime]] = {}
        self._max_ends: dict[tuple[str, int], list[datetime.datetime]] = {}
        for key, spans in grouped.items():
            spans.sort()
            self._starts[key] = [s for s, _e in spans]
            running: list[datetime.datetime] = []
            for _s, e in spans:
                running.append(e if not running or e > running[-1] else running[-1])
            self._max_ends[key] = running

    def overlaps(self, kind: str, rid: int, start: datetime.datetime, end: datetime.datetime):
        starts = self._starts.get((kind, rid))
        if not starts:
            return False
        idx = bisect.bisect_left(starts, end)
        return idx > 0 and self._max_ends[(kind, rid)][idx - 1] > start


@dataclass
class _Engine:
    service: Service
    channel: str
    quota_channel: str | None
    first: datetime.date
    last: datetime.date
    now: datetime.datetime
    # Without the rest (an inactive service, no doctor, no schedule): no candidates at all.
    doctors: dict[int, uuid.UUID] = field(default_factory=dict)
    clinics: dict[int, _ClinicInfo] = field(default_factory=dict)
    rules: list[_Rule] = field(default_factory=list)
    exceptions: list[_Exception] = field(default_factory=list)
    substitutions: list[_Substitution] = field(default_factory=list)
    busy: _Busy = field(default_factory=lambda: _Busy([]))
    rooms: dict[int, list[int]] = field(default_factory=dict)  # clinic -> room ids of the kind
    equipment: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (clinic, type)
    equipment_types: list[int] = field(default_factory=list)
    quotas: dict[int, list[Quota]] = field(default_factory=dict)  # clinic -> quotas
    counters: dict[tuple[int, datetime.date], int] = field(default_factory=dict)
    room_public_ids: dict[int | None, uuid.UUID | None] = field(default_factory=dict)
    # Rows of expired holds in the range (kind, resource, start, end, hold), when resolving.
    expired_holds: list[tuple] = field(default_factory=list)
    also_rows: list[list[tuple]] = field(default_factory=list)
    # Caches of the checks, filled as candidates are evaluated.
    _limits: dict[int, tuple] = field(default_factory=dict, init=False, repr=False)
    _matching_quotas: dict[tuple[int, int], list[Quota]] = field(
        default_factory=dict, init=False, repr=False
    )
    _slot_ids: SlotIdMaker = field(default_factory=SlotIdMaker, init=False, repr=False)

    @classmethod
    def load(
        cls,
        *,
        service: Service,
        doctor: Doctor | None,
        specialty: Specialty | None,
        clinic: Clinic | None,
        channel: str,
        quota_channel: str | None,
        first: datetime.date,
        last: datetime.date,
        now: datetime.datetime,
        ignore_hold_id: int | None = None,
        ignore_appointment: Any = None,
        with_expired_holds: bool = False,
        also: Callable[[Collection[int]], list[tuple[str, list]]] | None = None,
        busy_window: tuple[datetime.datetime, datetime.datetime] | None = None,
        first_round: list[list[tuple]] | None = None,
    ) -> _Engine:
        if channel not in APPOINTMENT_CHANNELS:
            raise InvalidInput(code="invalid_channel")
        if quota_channel is None:
            quota_channel = QUOTA_CHANNEL_OF[channel]
        nothing = {
            "service": service,
            "channel": channel,
            "quota_channel": quota_channel,
            "first": first,
            "last": last,
            "now": now,
        }
        if not service.is_active:
            return cls(**nothing)
        params = RangeQueries(
            service_id=service.pk,
            doctor_id=doctor.pk if doctor is not None else None,
            specialty_id=specialty.pk if specialty is not None else None,
            clinic_id=clinic.pk if clinic is not None else None,
            first=first,
            last=last,
        )
        # Round trip 1: who works when (unless the caller read it ahead). Round trip 2: what is
        # taken then (it needs the ids).
        if first_round is None:
            first_round = run_batch(params.first_round())
        doctor_rows, substitution_rows, rule_rows, exception_rows, type_rows = first_round
        doctors = {pk: as_uuid(public_id) for pk, public_id in doctor_rows}
        if not doctors:
            return cls(**nothing)
        substitutions = [_Substitution._make(row) for row in substitution_rows]
        # Plain rows, not model objects: the clinic and its policy come along as columns.
        clinics: dict[int, _ClinicInfo] = {}
        # Public ids of every room a slot may name (the key None: rows without a room).
        room_public_ids: dict[int | None, uuid.UUID | None] = {}
        width = len(_Rule._fields)
        rules = []
        for row in rule_rows:
            rule = _Rule._make(row[:width])._replace(breaks=json.loads(row[width - 1] or "[]"))
            rules.append(rule)
            if rule.clinic_id not in clinics:
                clinics[rule.clinic_id] = _clinic_info(*row[width:-1])
            room_public_ids[rule.room_id] = as_uuid(row[-1])
        width = len(_Exception._fields)
        exceptions = []
        for row in exception_rows:
            exc = _Exception._make(row[:width])
            exceptions.append(exc)
            if exc.clinic_id is not None and exc.clinic_id not in clinics:
                clinics[exc.clinic_id] = _clinic_info(*row[width:-1])
            room_public_ids[exc.room_id] = as_uuid(row[-1])
        if not clinics:
            return cls(**nothing, doctors=doctors)
        equipment_types = [type_id for (type_id,) in type_rows]

        # Only the rules' own rooms are checked, unless the service needs a room of a kind.
        rule_room_ids = {w.room_id for w in (*rules, *exceptions) if w.room_id is not None}
        occupancy = {
            "doctor_ids": doctors,
            "clinic_ids": clinics,
            "room_kind": service.room_kind,
            "rule_room_ids": rule_room_ids,
            "equipment_type_ids": equipment_types,
            "now": now,
            "ignore_hold_id": ignore_hold_id,
            "ignore_appointment_id": getattr(ignore_appointment, "pk", None),
            "window": busy_window,
        }
        statements = [params.occupancy(**occupancy, with_expiry=with_expired_holds)]
        if service.room_kind:
            statements.append(params.rooms(kind=service.room_kind, clinic_ids=clinics))
        if equipment_types:
            statements.append(params.equipment(clinic_ids=clinics, type_ids=equipment_types))
        if quota_channel:
            statements.append(
                params.quotas(clinic_ids=clinics, doctor_ids=doctors, channel=quota_channel)
            )
        extra = also(clinics) if also is not None else []
        answers = run_batch([*statements, *extra])
        also_rows = answers[len(statements) :]
        found = iter(answers[: len(statements)])
        occupancy_rows, expired_holds = _live_and_expired(
            next(found), with_expiry=with_expired_holds, now=now
        )
        rooms: dict[int, list[int]] = defaultdict(list)
        if service.room_kind:
            for room_id, clinic_id, public_id in next(found):
                rooms[clinic_id].append(room_id)
                room_public_ids[room_id] = as_uuid(public_id)
        equipment: dict[tuple[int, int], list[int]] = defaultdict(list)
        if equipment_types:
            for item_id, clinic_id, type_id in next(found):
                equipment[(clinic_id, type_id)].append(item_id)
        quotas: dict[int, list[Quota]] = defaultdict(list)
        counters: dict[tuple[int, datetime.date], int] = {}
        if quota_channel:
            width, seen = len(QUOTA_FIELDS), set()
            for row in next(found):
                quota_id, day, used = row[0], row[width], row[width + 1]
                if quota_id not in seen:  # a row per counter; ordered by quota
                    seen.add(quota_id)
                    quota = Quota.from_db(DEFAULT_DB_ALIAS, QUOTA_FIELDS, row[:width])
                    quotas[quota.clinic_id].append(quota)
                if day is not None:
                    counters[(quota_id, day)] = used
            if ignore_appointment is not None:
                _credit_own_quota(ignore_appointment, quotas, counters, quota_channel)
        return cls(
            service=service,
            channel=channel,
            quota_channel=quota_channel,
            first=first,
            last=last,
            now=now,
            doctors=doctors,
            clinics=clinics,
            rules=rules,
            exceptions=exceptions,
            substitutions=substitutions,
            busy=_Busy(occupancy_rows),
            rooms=rooms,
            equipment=equipment,
            equipment_types=equipment_types,
            quotas=quotas,
            counters=counters,
            room_public_ids=room_public_ids,
            expired_holds=expired_holds,
            also_rows=also_rows,
        )

    # -- schedule ------------------------------------------------------------------------------

    def _windows(self) -> dict[tuple[int, int, datetime.date], list[_Window]]:
        """Working windows per (doctor, clinic, local day), after every exception."""
        subs = {
            (s.absent_doctor_id, s.clinic_id, s.date): s.substitute_id for s in self.substitutions
        }
        windows: dict[tuple[int, int, datetime.date], list[_Window]] = defaultdict(list)
        days = [
            self.first + datetime.timedelta(days=n)
            for n in range((self.last - self.first).days + 1)
        ]
        for rule in self.rules:
            base = [
                _Window(
                    _minutes(rule.start_time),
                    _minutes(rule.end_time),
                    rule.slot_step_minutes,
                    rule.buffer_minutes,
                    rule.room_id,
                )
            ]
            for start, end in rule.breaks or []:
                base = _subtract(
                    base,
                    _minutes(datetime.time.fromisoformat(start)),
                    _minutes(datetime.time.fromisoformat(end)),
                )
            for day in days:
                if not rule.applies_on(day):
                    continue
                worker = subs.get((rule.doctor_id, rule.clinic_id, day), rule.doctor_id)
                if worker in self.doctors:
                    windows[(worker, rule.clinic_id, day)].extend(base)
        for exc in self.exceptions:
            if exc.kind != ExceptionKind.EXTRA_HOURS:
                continue
            for day in days:
                if exc.date_from <= day <= exc.date_to:
                    windows[(exc.doctor_id, exc.clinic_id, day)].append(
                        _Window(
                            _minutes(exc.start_time),
                            _minutes(exc.end_time),
                            exc.slot_step_minutes,
                            0,
                            exc.room_id,
                        )
                    )
        for exc in self.exceptions:
            if exc.kind not in ABSENCE_KINDS:
                continue
            for key in list(windows):
                doctor_id, clinic_id, day = key
                if doctor_id != exc.doctor_id or not exc.date_from <= day <= exc.date_to:
                    continue
                if exc.clinic_id is not None and exc.clinic_id != clinic_id:
                    continue
                if exc.start_time is None:
                    windows[key] = []
                else:
                    windows[key] = _subtract(
                        windows[key], _minutes(exc.start_time), _minutes(exc.end_time)
                    )
        return windows

    def candidates(self) -> Iterator[_Candidate]:
        """Every start the schedule allows, before occupancy, quotas and policy."""
        duration = datetime.timedelta(minutes=self.service.duration_minutes)
        minute = datetime.timedelta(minutes=1)
        for (doctor_id, clinic_id, day), windows in self._windows().items():
            tz = self.clinics[clinic_id].tz
            offset = _fixed_offset(day, tz)
            if offset is None:
                yield from self._careful_candidates(
                    doctor_id, clinic_id, day, windows, tz, duration
                )
                continue
            # No clock change on this day: every wall-clock minute is one instant.
            midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) - offset
            for w in windows:
                hi = midnight + w.end * minute
                for minutes in range(w.start, w.end, w.step):
                    start = midnight + minutes * minute
                    end = start + duration
                    if end <= hi:
                        yield _Candidate(doctor_id, clinic_id, day, start, end, w.buffer, w.room_id)

    def _careful_candidates(self, doctor_id, clinic_id, day, windows, tz, duration):
        """Candidates of a day with a DST transition: gaps skipped, folds give two instants."""
        for w in windows:
            # Conservative bounds: a start in a gap begins after it, an end in a fold is
            # its later instant, an end in a gap is its earlier one.
            lo = _local(day, w.start, tz, 0).astimezone(UTC)
            hi = _local(day, w.end, tz, 1).astimezone(UTC)
            for minutes in range(w.start, w.end, w.step):
                local = _local(day, minutes, tz, 0)
                if not _exists(local):
                    continue
                folds = (0, 1) if _is_ambiguous(local) else (0,)
                for fold in folds:
                    start = local.replace(fold=fold).astimezone(UTC)
                    end = start + duration
                    if start >= lo and end <= hi:
                        yield _Candidate(doctor_id, clinic_id, day, start, end, w.buffer, w.room_id)

    # -- checks --------------------------------------------------------------------------------

    def _clinic_limits(
        self, clinic_id: int
    ) -> tuple[_ClinicInfo, datetime.datetime | None, datetime.date]:
        """Per-clinic values of the checks, computed once per clinic: the clinic, the earliest
        start the minimum notice allows (None when it does not apply) and the last bookable
        local day."""
        limits = self._limits.get(clinic_id)
        if limits is None:
            clinic = self.clinics[clinic_id]
            notice = None
            if self.channel in SELF_SERVICE_CHANNELS:
                notice = self.now + datetime.timedelta(minutes=clinic.min_notice_minutes)
            today = self.now.astimezone(clinic.tz).date()
            limits = (clinic, notice, today + datetime.timedelta(days=clinic.horizon_days))
            self._limits[clinic_id] = limits
        return limits

    def _quotas_of(self, clinic_id: int, doctor_id: int) -> list[Quota]:
        key = (clinic_id, doctor_id)
        found = self._matching_quotas.get(key)
        if found is None:
            found = [
                q
                for q in self.quotas.get(clinic_id, ())
                if q.matches(doctor_id=doctor_id, service_id=self.service.pk)
            ]
            self._matching_quotas[key] = found
        return found

    def evaluate(self, c: _Candidate) -> Slot | _Refusal:
        """The slot for candidate `c`, or the first rule that refuses it."""
        clinic, notice, last_day = self._clinic_limits(c.clinic_id)
        if not clinic.native:
            return _NOT_NATIVE
        if c.start <= self.now:
            return _IN_THE_PAST
        if notice is not None and c.start < notice:
            return _MIN_NOTICE
        if c.day > last_day:
            return _BEYOND_HORIZON
        for quota in self._quotas_of(c.clinic_id, c.doctor_id):
            used = self.counters.get((quota.pk, c.day), 0)
            if used >= quota.limit and not quota.is_released(start=c.start, now=self.now):
                return _QUOTA_EXCEEDED
        overlaps = self.busy.overlaps
        busy_until = c.end + datetime.timedelta(minutes=c.buffer) if c.buffer else c.end
        if overlaps(ResourceKind.DOCTOR, c.doctor_id, c.start, busy_until):
            return _TAKEN
        room_id = c.rule_room_id
        if self.service.room_kind:
            pool = self.rooms.get(c.clinic_id, [])
            if not pool:
                return _NO_ROOM
            ordered = ([room_id] if room_id in pool else []) + [r for r in pool if r != room_id]
            room_id = next(
                (r for r in ordered if not overlaps(ResourceKind.ROOM, r, c.start, c.end)),
                None,
            )
            if room_id is None:
                return _ROOM_TAKEN
        elif room_id is not None and overlaps(ResourceKind.ROOM, room_id, c.start, c.end):
            return _ROOM_TAKEN
        equipment_ids: list[int] = []
        for type_id in self.equipment_types:
            pool = self.equipment.get((c.clinic_id, type_id), [])
            if not pool:
                return _NO_EQUIPMENT
            item = next(
                (e for e in pool if not overlaps(ResourceKind.EQUIPMENT, e, c.start, c.end)),
                None,
            )
            if item is None:
                return _EQUIPMENT_TAKEN
            equipment_ids.append(item)
        doctor_public_id = self.doctors[c.doctor_id]
        # The frozen dataclass's __init__ sets each field through object.__setattr__ (about 4x
        # the cost); filling the instance dict directly makes the same object.
        slot = object.__new__(Slot)
        slot.__dict__.update(
            slot_id=self._slot_ids.make(
                doctor_public_id=doctor_public_id,
                clinic_public_id=clinic.public_id,
                service_public_id=self.service.public_id,
                start=c.start,
            ),
            doctor_id=c.doctor_id,
            doctor_public_id=doctor_public_id,
            clinic_id=c.clinic_id,
            clinic_public_id=clinic.public_id,
            service_id=self.service.pk,
            service_public_id=self.service.public_id,
            start=c.start.astimezone(clinic.tz),
            end=c.end.astimezone(clinic.tz),
            room_id=room_id,
            equipment_ids=tuple(equipment_ids),
            buffer_minutes=c.buffer,
            room_public_id=self.room_public_ids.get(room_id),
        )
        return slot
