"""The engine's reads: a fixed handful of queries per request, whatever the range.

First who works when (`load_schedule`: doctors, stand-ins, weekly rules, exceptions, clinics
with their booking policies, the service's equipment types), then what is taken in a time
window (`load_taken`: rooms, equipment, occupancy, quotas and their counters), which needs the
ids the first answered. The reads are plain SQL (`queries.py`); the busy read's instants go
through their model field both ways (`INSTANT`). Rows come back as named tuples, by column
name; quotas as models (`Quota.objects.raw`).
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from django.db import connection
from django.db.models import DateTimeField

from scheduling.choices import BookingMode, ResourceKind
from scheduling.db import as_utc
from scheduling.models import BookingPolicy, Quota, Service

from . import queries
from .busy import BusyIndex, BusySpan, ExpiredHold
from .queries import as_json, as_optional_uuid, as_uuid, fetch
from .schedule import Rule, ScheduleChange, StandIn

DEFAULT_POLICY = BookingPolicy()
# Prepares the busy read's instants for the database and reads them back (`queries.busy_sql`).
INSTANT: DateTimeField[datetime.datetime, datetime.datetime] = DateTimeField()


class ClinicRow(NamedTuple):
    """What the engine needs of a clinic and its booking policy."""

    id: int
    public_id: uuid.UUID
    timezone: str
    mode: str
    min_notice_minutes: int
    horizon_days: int

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def from_row(
        cls,
        *,
        id: int,
        public_id: object,
        timezone: str,
        mode: str | None,
        min_notice_minutes: int | None,
        horizon_days: int | None,
    ) -> ClinicRow:
        """A row of `clinics_sql`; a clinic without a policy row has the default policy."""
        if mode is None or min_notice_minutes is None or horizon_days is None:
            mode = DEFAULT_POLICY.mode
            min_notice_minutes = DEFAULT_POLICY.min_notice_minutes
            horizon_days = DEFAULT_POLICY.horizon_days
        return cls(id, as_uuid(public_id), timezone, mode, min_notice_minutes, horizon_days)

    @property
    def native(self) -> bool:
        return self.mode == BookingMode.NATIVE


@dataclass(frozen=True)
class Asked:
    """What the engine was asked for: one service over local dates, narrowed to one doctor,
    the doctors of one specialty, or one clinic."""

    service: Service
    first: datetime.date
    last: datetime.date
    doctor_id: int | None = None
    specialty_id: int | None = None
    clinic_id: int | None = None


@dataclass
class Schedule:
    """Who works when in the range asked."""

    doctors: dict[int, uuid.UUID] = field(default_factory=dict)  # pk -> public id
    clinics: dict[int, ClinicRow] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    changes: list[ScheduleChange] = field(default_factory=list)
    stand_ins: list[StandIn] = field(default_factory=list)
    equipment_types: list[int] = field(default_factory=list)

    def narrowed_to(self, doctor_ids: Collection[int]) -> Schedule:
        """This schedule as `load_doctors_schedule` reads it for `doctor_ids` alone (a subset
        of `doctors`): their stand-ins, their rules and those of whom they stand in for, their
        exceptions, and the clinics those name."""
        doctors = {pk: public for pk, public in self.doctors.items() if pk in doctor_ids}
        stand_ins = [
            s for s in self.stand_ins if s.substitute_id in doctors or s.absent_doctor_id in doctors
        ]
        stood_in_for = {s.absent_doctor_id for s in stand_ins if s.substitute_id in doctors}
        rules = [r for r in self.rules if r.doctor_id in doctors or r.doctor_id in stood_in_for]
        changes = [c for c in self.changes if c.doctor_id in doctors]
        clinic_ids = {r.clinic_id for r in rules} | {c.clinic_id for c in changes if c.clinic_id}
        return Schedule(
            doctors=doctors,
            clinics={pk: row for pk, row in self.clinics.items() if pk in clinic_ids},
            rules=rules,
            changes=changes,
            stand_ins=stand_ins,
            equipment_types=self.equipment_types,
        )

    def room_public_ids(self) -> dict[int, uuid.UUID]:
        pairs = [(r.room_id, r.room_public_id) for r in self.rules]
        pairs += [(c.room_id, c.room_public_id) for c in self.changes]
        return {room: public for room, public in pairs if room is not None and public is not None}


@dataclass
class Taken:
    """What is taken in a time window, and the pools and limits the checks need."""

    busy: BusyIndex = field(default_factory=lambda: BusyIndex([]))
    expired_holds: list[ExpiredHold] = field(default_factory=list)
    rooms: dict[int, list[int]] = field(default_factory=dict)  # clinic -> rooms of the kind
    room_public_ids: dict[int, uuid.UUID] = field(default_factory=dict)
    equipment: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (clinic, type)
    quotas: dict[int, list[Quota]] = field(default_factory=dict)  # clinic -> quotas
    counters: dict[tuple[int, datetime.date], int] = field(default_factory=dict)
    # The days whose limit the head nurse set apart from the quota's own.
    day_limits: dict[tuple[int, datetime.date], int] = field(default_factory=dict)

    def limit_of(self, quota: Quota, day: datetime.date) -> int:
        return self.day_limits.get((quota.pk, day), quota.limit)


class _Id(NamedTuple):
    id: int
    public_id: object


def load_schedule(asked: Asked) -> Schedule:
    """Doctors, stand-ins, rules, exceptions, clinics and equipment types: six queries at
    most, fewer when an answer leaves nothing to ask."""
    if not asked.service.is_active:
        return Schedule()
    doctors = {
        row.id: as_uuid(row.public_id)
        for row in fetch(
            _Id,
            *queries.doctors_sql(
                service_id=asked.service.pk,
                doctor_id=asked.doctor_id,
                specialty_id=asked.specialty_id,
            ),
        )
    }
    if not doctors:
        return Schedule()
    return load_doctors_schedule(
        doctors,
        first=asked.first,
        last=asked.last,
        clinic_id=asked.clinic_id,
        service_id=asked.service.pk,
    )


def load_doctors_schedule(
    doctors: Mapping[int, uuid.UUID],
    *,
    first: datetime.date,
    last: datetime.date,
    clinic_id: int | None,
    service_id: int | None,
) -> Schedule:
    """The schedule of the given doctors (pk -> public id) whoever they are: stand-ins, rules,
    exceptions, clinics and, for `service_id`, its equipment types (five queries at most).

    For a page that shows the hours of doctors whatever service they offer (the day board),
    then asks the engine for the free times of one service among them (`Schedule.narrowed_to`)
    without reading the schedule again."""
    stand_ins = fetch(
        StandIn,
        *queries.stand_ins_sql(
            doctor_ids=list(doctors), first=first, last=last, clinic_id=clinic_id
        ),
    )
    # Rules of the doctors and of those they stand in for.
    stood_in_for = {s.absent_doctor_id for s in stand_ins if s.substitute_id in doctors}
    rule_sql = queries.rules_sql(
        doctor_ids=[*doctors, *stood_in_for], first=first, last=last, clinic_id=clinic_id
    )
    rules = [
        rule._replace(
            breaks=as_json(rule.breaks), room_public_id=as_optional_uuid(rule.room_public_id)
        )
        for rule in fetch(Rule, *rule_sql)
    ]
    change_sql = queries.changes_sql(
        doctor_ids=list(doctors), first=first, last=last, clinic_id=clinic_id
    )
    changes = [
        change._replace(room_public_id=as_optional_uuid(change.room_public_id))
        for change in fetch(ScheduleChange, *change_sql)
    ]
    clinic_ids = {r.clinic_id for r in rules} | {c.clinic_id for c in changes if c.clinic_id}
    if not clinic_ids:
        return Schedule(doctors=dict(doctors), rules=rules, changes=changes, stand_ins=stand_ins)
    clinics = fetch(ClinicRow.from_row, *queries.clinics_sql(sorted(clinic_ids)))
    schedule = Schedule(
        doctors=dict(doctors),
        clinics={clinic.id: clinic for clinic in clinics},
        rules=rules,
        changes=changes,
        stand_ins=stand_ins,
    )
    return with_equipment_of(schedule, service_id) if service_id is not None else schedule


class _TypeId(NamedTuple):
    type_id: int


def with_equipment_of(schedule: Schedule, service_id: int) -> Schedule:
    """`schedule` (loaded without a service) with the equipment types `service_id` needs: for
    a page that picks its service from who works that day (one query, as the load would)."""
    if not schedule.clinics:
        return schedule
    types = fetch(_TypeId, *queries.equipment_types_sql(service_id))
    return replace(schedule, equipment_types=[row.type_id for row in types])


class _Room(NamedTuple):
    id: int
    clinic_id: int
    public_id: object


class _Item(NamedTuple):
    id: int
    clinic_id: int
    type_id: int


class _Counter(NamedTuple):
    quota_id: int
    date: datetime.date
    used: int
    day_limit: int | None


def load_taken(
    asked: Asked,
    schedule: Schedule,
    *,
    since: datetime.datetime,
    until: datetime.datetime,
    now: datetime.datetime,
    quota_channel: str | None,
    ignore_hold_id: int | None = None,
    ignore_appointment_id: int | None = None,
) -> Taken:
    """Rooms and equipment the service may use, what is busy over `[since, until)` (live
    rows, closures of rooms and equipment in force, and, told apart, expired holds), and the
    quota channel's quotas with their counters and day limits in the range. Rows of the hold
    or appointment named by `ignore_*` are left out (the caller is replacing them)."""
    service = asked.service
    taken = Taken()
    clinic_ids = list(schedule.clinics)
    resources: list[tuple[str, list[int]]] = [(ResourceKind.DOCTOR, list(schedule.doctors))]
    item_ids: list[int] = []
    if service.room_kind:
        rooms = fetch(_Room, *queries.rooms_sql(kind=service.room_kind, clinic_ids=clinic_ids))
        pools: dict[int, list[int]] = defaultdict(list)
        for room in rooms:
            pools[room.clinic_id].append(room.id)
            taken.room_public_ids[room.id] = as_uuid(room.public_id)
        taken.rooms = dict(pools)
        room_ids = [room.id for room in rooms]
    else:
        # Only the rules' own rooms are checked.
        room_ids = list(schedule.room_public_ids())
    if room_ids:
        resources.append((ResourceKind.ROOM, room_ids))
    if schedule.equipment_types:
        items = fetch(
            _Item,
            *queries.equipment_sql(type_ids=schedule.equipment_types, clinic_ids=clinic_ids),
        )
        equipment: dict[tuple[int, int], list[int]] = defaultdict(list)
        for item in items:
            equipment[(item.clinic_id, item.type_id)].append(item.id)
        taken.equipment = dict(equipment)
        item_ids = [i.id for i in items]
        resources.append((ResourceKind.EQUIPMENT, item_ids))
    _load_busy(
        taken,
        queries.busy_sql(
            resources=resources,
            closed_rooms=room_ids,
            closed_items=item_ids,
            since=INSTANT.get_db_prep_value(since, connection),
            until=INSTANT.get_db_prep_value(until, connection),
            ignore_hold_id=ignore_hold_id,
            ignore_appointment_id=ignore_appointment_id,
        ),
        now=now,
    )
    if quota_channel:
        _load_quotas(taken, asked, schedule, channel=quota_channel)
    return taken


class _Busy(NamedTuple):
    kind: str
    resource_id: int
    hold_id: int | None
    start: datetime.datetime
    end_at: datetime.datetime
    expires_at: datetime.datetime | None


def _load_busy(taken: Taken, statement: queries.Statement, *, now: datetime.datetime) -> None:
    """Occupancy and closures in one statement (`queries.busy_sql`), so that closures cost the
    booking path no query of their own; expired holds told apart."""
    live = []
    for row in fetch(_Busy, *statement):
        start, end = as_utc(INSTANT.to_python(row.start)), as_utc(INSTANT.to_python(row.end_at))
        expires = row.expires_at
        # Only holds expire: appointments and closures carry no expiry.
        if (
            expires is not None
            and row.hold_id is not None
            and as_utc(INSTANT.to_python(expires)) <= now
        ):
            taken.expired_holds.append(
                ExpiredHold(row.kind, row.resource_id, start, end, hold_id=row.hold_id)
            )
        else:
            live.append(BusySpan(row.kind, row.resource_id, start, end))
    taken.busy = BusyIndex(live)


def _load_quotas(taken: Taken, asked: Asked, schedule: Schedule, *, channel: str) -> None:
    """The channel's quotas that may apply to the doctors and the service, and their counters
    in the range."""
    sql, params = queries.quotas_sql(
        clinic_ids=list(schedule.clinics),
        doctor_ids=list(schedule.doctors),
        service_id=asked.service.pk,
        channel=channel,
    )
    quotas = list(Quota.objects.raw(sql, params))
    if not quotas:
        return
    by_clinic: dict[int, list[Quota]] = defaultdict(list)
    for quota in quotas:
        by_clinic[quota.clinic_id].append(quota)
    taken.quotas = dict(by_clinic)
    counters = fetch(
        _Counter,
        *queries.counters_sql(
            quota_ids=[quota.pk for quota in quotas], first=asked.first, last=asked.last
        ),
    )
    taken.counters = {(row.quota_id, row.date): row.used for row in counters}
    taken.day_limits = {
        (row.quota_id, row.date): row.day_limit for row in counters if row.day_limit is not None
    }
