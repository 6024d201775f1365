"""The engine's reads: a fixed handful of ORM queries per request, whatever the range.

First who works when (`load_schedule`: doctors, stand-ins, weekly rules, exceptions, clinics
with their booking policies, the service's equipment types), then what is taken in a time
window (`load_taken`: rooms, equipment, occupancy, quotas and their counters), which needs the
ids the first answered. Rows come back as named tuples built from `values()` by column name.
Orderings follow the models' own where the engine depends on them (room and equipment pools:
the first free item is assigned).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q

from portal.models import Clinic
from scheduling.choices import ResourceKind
from scheduling.models import (
    Doctor,
    Equipment,
    Occupancy,
    Quota,
    QuotaCounter,
    Room,
    ScheduleException,
    ScheduleRule,
    Service,
    Substitution,
)

from .busy import BusyIndex, BusySpan, ExpiredHold
from .schedule import Rule, ScheduleChange, StandIn

RULE_COLUMNS = [name for name in Rule._fields if name != "room_public_id"]
CHANGE_COLUMNS = [name for name in ScheduleChange._fields if name != "room_public_id"]
STAND_IN_COLUMNS = list(StandIn._fields)


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
    clinics: dict[int, Clinic] = field(default_factory=dict)  # with `booking_policy` loaded
    rules: list[Rule] = field(default_factory=list)
    changes: list[ScheduleChange] = field(default_factory=list)
    stand_ins: list[StandIn] = field(default_factory=list)
    equipment_types: list[int] = field(default_factory=list)

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


def load_schedule(asked: Asked) -> Schedule:
    """Doctors, stand-ins, rules, exceptions, clinics and equipment types: six queries at
    most, fewer when an answer leaves nothing to ask."""
    if not asked.service.is_active:
        return Schedule()
    doctors = _doctors(asked)
    if not doctors:
        return Schedule()
    stand_ins = _stand_ins(asked, doctors)
    # Rules of the doctors and of those they stand in for.
    stood_in_for = {s.absent_doctor_id for s in stand_ins if s.substitute_id in doctors}
    rules = _rules(asked, set(doctors) | stood_in_for)
    changes = _changes(asked, doctors)
    clinic_ids = {r.clinic_id for r in rules} | {c.clinic_id for c in changes if c.clinic_id}
    if not clinic_ids:
        return Schedule(doctors=doctors)
    clinics = Clinic.objects.filter(pk__in=clinic_ids).select_related("booking_policy")
    equipment_types = asked.service.equipment_types.order_by("id").values_list("id", flat=True)
    return Schedule(
        doctors=doctors,
        clinics={clinic.pk: clinic for clinic in clinics},
        rules=rules,
        changes=changes,
        stand_ins=stand_ins,
        equipment_types=list(equipment_types),
    )


def _doctors(asked: Asked) -> dict[int, uuid.UUID]:
    qs = Doctor.objects.filter(is_active=True, services=asked.service.pk)
    if asked.doctor_id is not None:
        qs = qs.filter(pk=asked.doctor_id)
    if asked.specialty_id is not None:
        qs = qs.filter(specialties=asked.specialty_id)
    return {row["id"]: row["public_id"] for row in qs.values("id", "public_id")}


def _in_clinic(asked: Asked, lookup: str = "clinic_id") -> Q:
    return Q() if asked.clinic_id is None else Q(**{lookup: asked.clinic_id})


def _stand_ins(asked: Asked, doctors: dict[int, uuid.UUID]) -> list[StandIn]:
    """Days in the range when one of the doctors stands in for someone or is stood in for."""
    rows = (
        Substitution.objects.filter(_in_clinic(asked), date__gte=asked.first, date__lte=asked.last)
        .filter(Q(substitute_id__in=list(doctors)) | Q(absent_doctor_id__in=list(doctors)))
        .order_by("date", "id")
        .values(*STAND_IN_COLUMNS)
    )
    return [StandIn(**row) for row in rows]


def _rules(asked: Asked, doctor_ids: set[int]) -> list[Rule]:
    """Weekly rules in force in the range, in active clinics."""
    rows = (
        ScheduleRule.objects.filter(
            _in_clinic(asked),
            clinic__is_active=True,
            doctor_id__in=doctor_ids,
            valid_from__lte=asked.last,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=asked.first))
        .order_by("doctor_id", "weekday", "start_time", "id")
        .values(*RULE_COLUMNS, room_public_id=F("room__public_id"))
    )
    return [Rule(**row) for row in rows]


def _changes(asked: Asked, doctors: dict[int, uuid.UUID]) -> list[ScheduleChange]:
    """Exceptions overlapping the range: network-wide ones and those of active clinics."""
    in_clinic = Q(clinic__is_active=True) & _in_clinic(asked)
    rows = (
        ScheduleException.objects.filter(
            doctor_id__in=list(doctors), date_from__lte=asked.last, date_to__gte=asked.first
        )
        .filter(Q(clinic__isnull=True) | in_clinic)
        .order_by("date_from", "id")
        .values(*CHANGE_COLUMNS, room_public_id=F("room__public_id"))
    )
    return [ScheduleChange(**row) for row in rows]


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
    with_expired_holds: bool = False,
) -> Taken:
    """Rooms and equipment the service may use, what is busy over `[since, until)` (live
    rows; with `with_expired_holds` also expired holds, told apart), and the quota channel's
    quotas with their counters in the range. Rows of the hold or appointment named by
    `ignore_*` are left out (the caller is replacing them)."""
    service = asked.service
    taken = Taken()
    clinic_ids = list(schedule.clinics)
    resources = Q(resource_kind=ResourceKind.DOCTOR, resource_id__in=list(schedule.doctors))
    if service.room_kind:
        _load_rooms(taken, kind=service.room_kind, clinic_ids=clinic_ids)
        room_ids = [room for pool in taken.rooms.values() for room in pool]
    else:
        # Only the rules' own rooms are checked.
        room_ids = list(schedule.room_public_ids())
    if room_ids:
        resources |= Q(resource_kind=ResourceKind.ROOM, resource_id__in=room_ids)
    if schedule.equipment_types:
        _load_equipment(taken, types=schedule.equipment_types, clinic_ids=clinic_ids)
        items = [item for pool in taken.equipment.values() for item in pool]
        resources |= Q(resource_kind=ResourceKind.EQUIPMENT, resource_id__in=items)
    occupancy = Occupancy.objects.filter(resources, starts_at__lt=until, ends_at__gt=since)
    if not with_expired_holds:
        occupancy = occupancy.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if ignore_hold_id is not None:
        occupancy = occupancy.exclude(hold_id=ignore_hold_id)
    if ignore_appointment_id is not None:
        occupancy = occupancy.exclude(appointment_id=ignore_appointment_id)
    live = []
    for row in occupancy.values(
        "resource_kind", "resource_id", "starts_at", "ends_at", "hold_id", "expires_at"
    ):
        span = (row["resource_kind"], row["resource_id"], row["starts_at"], row["ends_at"])
        if row["expires_at"] is not None and row["expires_at"] <= now:
            taken.expired_holds.append(ExpiredHold(*span, hold_id=row["hold_id"]))
        else:
            live.append(BusySpan(*span))
    taken.busy = BusyIndex(live)
    if quota_channel:
        _load_quotas(taken, asked, schedule, channel=quota_channel)
    return taken


def _load_rooms(taken: Taken, *, kind: str, clinic_ids: list[int]) -> None:
    """Active rooms of the kind in the clinics, by name as in the admin."""
    rooms = Room.objects.filter(kind=kind, is_active=True, clinic_id__in=clinic_ids).order_by(
        "clinic_id", "name", "id"
    )
    pools: dict[int, list[int]] = defaultdict(list)
    for row in rooms.values("id", "clinic_id", "public_id"):
        pools[row["clinic_id"]].append(row["id"])
        taken.room_public_ids[row["id"]] = row["public_id"]
    taken.rooms = dict(pools)


def _load_equipment(taken: Taken, *, types: list[int], clinic_ids: list[int]) -> None:
    items = Equipment.objects.filter(
        is_active=True, clinic_id__in=clinic_ids, type_id__in=types
    ).order_by("clinic_id", "name", "id")
    pools: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in items.values("id", "clinic_id", "type_id"):
        pools[(row["clinic_id"], row["type_id"])].append(row["id"])
    taken.equipment = dict(pools)


def _load_quotas(taken: Taken, asked: Asked, schedule: Schedule, *, channel: str) -> None:
    """The channel's quotas that may apply to the doctors and the service, and their counters
    in the range."""
    quotas = list(
        Quota.objects.filter(clinic_id__in=list(schedule.clinics), channel=channel)
        .filter(Q(service__isnull=True) | Q(service_id=asked.service.pk))
        .filter(Q(doctor__isnull=True) | Q(doctor_id__in=list(schedule.doctors)))
        .order_by("id")
    )
    if not quotas:
        return
    by_clinic: dict[int, list[Quota]] = defaultdict(list)
    for quota in quotas:
        by_clinic[quota.clinic_id].append(quota)
    taken.quotas = dict(by_clinic)
    counters = QuotaCounter.objects.filter(
        quota__in=quotas, date__gte=asked.first, date__lte=asked.last
    ).values("quota_id", "date", "used")
    taken.counters = {(row["quota_id"], row["date"]): row["used"] for row in counters}
