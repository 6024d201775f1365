"""Free slots: the one source of bookable times.

A range's rules, exceptions, substitutions, occupancy (appointments and live holds), rooms,
equipment, quotas and counters are loaded in a fixed handful of queries, whatever the range;
everything else is arithmetic in memory, in each clinic's own time zone. Wall-clock times that
do not exist (a DST gap) are never slots; wall-clock times that happen twice (a DST fold) are
two slots, one per real instant. Times are stored and compared in UTC.

Booking services call `resolve_slot`, which runs the very same computation for one start, so
nothing can be booked that `free_slots` would not offer.
"""

from __future__ import annotations

import bisect
import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import (
    ABSENCE_KINDS,
    QUOTA_CHANNEL_OF,
    SELF_SERVICE_CHANNELS,
    AppointmentChannel,
    BookingMode,
    ExceptionKind,
    ResourceKind,
)
from scheduling.errors import (
    BookingError,
    InvalidInput,
    OutsideBookingWindow,
    QuotaExceeded,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import (
    BookingPolicy,
    Doctor,
    Equipment,
    Occupancy,
    Quota,
    QuotaCounter,
    Room,
    ScheduleException,
    ScheduleRule,
    Service,
    Specialty,
    Substitution,
)
from scheduling.slot_ids import make_slot_id

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

    @property
    def start_utc(self) -> datetime.datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime.datetime:
        return self.end.astimezone(UTC)


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
    slots = [s for c in engine.candidates() if isinstance(s := engine.evaluate(c), Slot)]
    # Sort by instant: same-zone aware datetimes compare by wall clock, ignoring `fold`.
    slots.sort(key=lambda s: (s.start.astimezone(UTC), s.doctor_id, s.clinic_id))
    return slots


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
    utc_day = start.date()
    engine = _Engine.load(
        service=service,
        doctor=doctor,
        specialty=None,
        clinic=clinic,
        channel=channel,
        quota_channel=quota_channel,
        # A day either side covers every zone's local date of this instant.
        first=utc_day - datetime.timedelta(days=1),
        last=utc_day + datetime.timedelta(days=1),
        now=now,
        ignore_hold_id=ignore_hold_id,
        ignore_appointment=ignore_appointment,
    )
    matches = [c for c in engine.candidates() if c.start == start and c.doctor_id == doctor.pk]
    if not matches:
        raise SlotUnavailable(code="not_a_slot")
    error: BookingError | None = None
    for candidate in matches:
        result = engine.evaluate(candidate)
        if isinstance(result, Slot):
            return result
        error = error or result
    assert error is not None  # noqa: S101 - matches is non-empty
    raise error


# --- Internals ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Window:
    """A working window in wall-clock minutes of one local day."""

    start: int
    end: int
    step: int
    buffer: int
    room_id: int | None


@dataclass(frozen=True)
class _Candidate:
    doctor_id: int
    clinic_id: int
    day: datetime.date
    start: datetime.datetime  # UTC
    end: datetime.datetime
    buffer: int
    rule_room_id: int | None


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
    doctors: dict[int, uuid.UUID]
    clinics: dict[int, Clinic]
    rules: list[ScheduleRule]
    exceptions: list[ScheduleException]
    substitutions: list[Substitution]
    busy: _Busy
    rooms: dict[int, list[int]]  # clinic -> room ids of the required kind
    equipment: dict[tuple[int, int], list[int]]  # (clinic, type) -> item ids
    equipment_types: list[int]
    quotas: dict[int, list[Quota]] = field(default_factory=dict)  # clinic -> quotas
    counters: dict[tuple[int, datetime.date], int] = field(default_factory=dict)

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
    ) -> _Engine:
        if channel not in AppointmentChannel.values:
            raise InvalidInput(code="invalid_channel")
        if quota_channel is None:
            quota_channel = QUOTA_CHANNEL_OF[channel]
        doctor_qs = Doctor.objects.filter(is_active=True, services=service)
        if doctor is not None:
            doctor_qs = doctor_qs.filter(pk=doctor.pk)
        if specialty is not None:
            doctor_qs = doctor_qs.filter(specialties=specialty)
        doctors = dict(doctor_qs.values_list("id", "public_id").distinct())  # query 1
        empty = cls(
            service=service,
            channel=channel,
            quota_channel=quota_channel,
            first=first,
            last=last,
            now=now,
            doctors=doctors,
            clinics={},
            rules=[],
            exceptions=[],
            substitutions=[],
            busy=_Busy([]),
            rooms={},
            equipment={},
            equipment_types=[],
        )
        if not doctors or not service.is_active:
            return empty

        clinic_q = Q(clinic=clinic) if clinic is not None else Q()
        substitutions = list(  # query 2
            Substitution.objects.filter(clinic_q, date__range=(first, last)).filter(
                Q(substitute_id__in=doctors) | Q(absent_doctor_id__in=doctors)
            )
        )
        scheduled = set(doctors) | {s.absent_doctor_id for s in substitutions}
        rules = list(  # query 3
            ScheduleRule.objects.filter(
                clinic_q,
                doctor_id__in=scheduled,
                clinic__is_active=True,
                valid_from__lte=last,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
            .select_related("clinic", "clinic__booking_policy")
        )
        exceptions = list(  # query 4
            ScheduleException.objects.filter(
                doctor_id__in=doctors, date_from__lte=last, date_to__gte=first
            )
            .filter(Q(clinic__isnull=True) | (clinic_q & Q(clinic__is_active=True)))
            .select_related("clinic", "clinic__booking_policy")
        )
        clinics = {r.clinic_id: r.clinic for r in rules}
        clinics.update({e.clinic_id: e.clinic for e in exceptions if e.clinic_id})
        if not clinics:
            return empty

        # Wide enough for every zone's local days plus buffers.
        lo = datetime.datetime.combine(first, datetime.time(), tzinfo=UTC) - datetime.timedelta(
            days=1
        )
        hi = datetime.datetime.combine(last, datetime.time(), tzinfo=UTC) + datetime.timedelta(
            days=2
        )
        occupancy = Occupancy.objects.filter(starts_at__lt=hi, ends_at__gt=lo).filter(
            Q(resource_kind=ResourceKind.DOCTOR, resource_id__in=doctors)
            | Q(
                resource_kind__in=[ResourceKind.ROOM, ResourceKind.EQUIPMENT],
                clinic_id__in=clinics,
            )
        )
        occupancy = occupancy.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        if ignore_hold_id is not None:
            occupancy = occupancy.exclude(hold_id=ignore_hold_id)
        if ignore_appointment is not None:
            occupancy = occupancy.exclude(appointment_id=ignore_appointment.pk)
        busy = _Busy(  # query 5
            occupancy.values_list("resource_kind", "resource_id", "starts_at", "ends_at")
        )

        rooms: dict[int, list[int]] = defaultdict(list)
        if service.room_kind:
            for room_id, clinic_id in Room.objects.filter(  # query 6
                clinic_id__in=clinics, kind=service.room_kind, is_active=True
            ).values_list("id", "clinic_id"):
                rooms[clinic_id].append(room_id)
        equipment_types = list(service.equipment_types.values_list("id", flat=True))  # query 7
        equipment: dict[tuple[int, int], list[int]] = defaultdict(list)
        if equipment_types:
            for item_id, clinic_id, type_id in Equipment.objects.filter(  # query 8
                clinic_id__in=clinics, type_id__in=equipment_types, is_active=True
            ).values_list("id", "clinic_id", "type_id"):
                equipment[(clinic_id, type_id)].append(item_id)

        quotas: dict[int, list[Quota]] = defaultdict(list)
        counters: dict[tuple[int, datetime.date], int] = {}
        if quota_channel:
            quota_rows = list(  # query 9
                Quota.objects.filter(clinic_id__in=clinics, channel=quota_channel)
                .filter(Q(service__isnull=True) | Q(service=service))
                .filter(Q(doctor__isnull=True) | Q(doctor_id__in=doctors))
            )
            for quota in quota_rows:
                quotas[quota.clinic_id].append(quota)
            if quota_rows:
                counters = {  # query 10
                    (quota_id, day): used
                    for quota_id, day, used in QuotaCounter.objects.filter(
                        quota__in=quota_rows,
                        date__range=(first, last),
                    ).values_list("quota_id", "date", "used")
                }
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
            busy=busy,
            rooms=rooms,
            equipment=equipment,
            equipment_types=equipment_types,
            quotas=quotas,
            counters=counters,
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
        for (doctor_id, clinic_id, day), windows in self._windows().items():
            tz = self.clinics[clinic_id].tz
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
                            yield _Candidate(
                                doctor_id, clinic_id, day, start, end, w.buffer, w.room_id
                            )

    # -- checks --------------------------------------------------------------------------------

    def _policy(self, clinic: Clinic) -> BookingPolicy:
        try:
            return clinic.booking_policy
        except BookingPolicy.DoesNotExist:
            return _DEFAULT_POLICY

    def evaluate(self, c: _Candidate) -> Slot | BookingError:
        """The slot for candidate `c`, or the first rule that refuses it."""
        clinic = self.clinics[c.clinic_id]
        policy = self._policy(clinic)
        if policy.mode != BookingMode.NATIVE:
            return SlotUnavailable(code="clinic_not_native")
        if c.start <= self.now:
            return OutsideBookingWindow(code="in_the_past")
        if self.channel in SELF_SERVICE_CHANNELS and c.start < self.now + datetime.timedelta(
            minutes=policy.min_notice_minutes
        ):
            return OutsideBookingWindow(code="min_notice")
        today = self.now.astimezone(clinic.tz).date()
        if c.day > today + datetime.timedelta(days=policy.horizon_days):
            return OutsideBookingWindow(code="beyond_horizon")
        for quota in self.quotas.get(c.clinic_id, ()):
            if not quota.matches(doctor_id=c.doctor_id, service_id=self.service.pk):
                continue
            used = self.counters.get((quota.pk, c.day), 0)
            if used >= quota.limit and not quota.is_released(start=c.start, now=self.now):
                return QuotaExceeded()
        busy_until = c.end + datetime.timedelta(minutes=c.buffer)
        if self.busy.overlaps(ResourceKind.DOCTOR, c.doctor_id, c.start, busy_until):
            return SlotTaken()
        room_id = c.rule_room_id
        if self.service.room_kind:
            pool = self.rooms.get(c.clinic_id, [])
            if not pool:
                return SlotUnavailable(code="no_room")
            ordered = ([room_id] if room_id in pool else []) + [r for r in pool if r != room_id]
            room_id = next(
                (
                    r
                    for r in ordered
                    if not self.busy.overlaps(ResourceKind.ROOM, r, c.start, c.end)
                ),
                None,
            )
            if room_id is None:
                return SlotTaken(code="room_taken")
        elif room_id is not None and self.busy.overlaps(ResourceKind.ROOM, room_id, c.start, c.end):
            return SlotTaken(code="room_taken")
        equipment_ids: list[int] = []
        for type_id in self.equipment_types:
            pool = self.equipment.get((c.clinic_id, type_id), [])
            if not pool:
                return SlotUnavailable(code="no_equipment")
            item = next(
                (
                    e
                    for e in pool
                    if not self.busy.overlaps(ResourceKind.EQUIPMENT, e, c.start, c.end)
                ),
                None,
            )
            if item is None:
                return SlotTaken(code="equipment_taken")
            equipment_ids.append(item)
        return Slot(
            slot_id=make_slot_id(
                doctor_public_id=self.doctors[c.doctor_id],
                clinic_public_id=clinic.public_id,
                service_public_id=self.service.public_id,
                start=c.start,
            ),
            doctor_id=c.doctor_id,
            doctor_public_id=self.doctors[c.doctor_id],
            clinic_id=c.clinic_id,
            clinic_public_id=clinic.public_id,
            service_id=self.service.pk,
            service_public_id=self.service.public_id,
            start=c.start.astimezone(clinic.tz),
            end=c.end.astimezone(clinic.tz),
            room_id=room_id,
            equipment_ids=tuple(equipment_ids),
            buffer_minutes=c.buffer,
        )
