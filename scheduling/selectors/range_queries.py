"""The SQL behind the free-slot engine's load of a range (`availability._Engine.load`).

Plain statements instead of querysets: the engine runs on every slot request and every booking,
and building these through the ORM cost more than running them. They go to the database in two
round trips (`scheduling.db.run_batch`): first who works when (doctors, substitutions, weekly
rules, exceptions, the service's equipment types), then what is taken then (occupancy, rooms,
equipment, quotas and their counters), which needs the ids the first answered.

Every statement is portable between PostgreSQL and SQLite. Orderings follow the models' own
`Meta.ordering` where the engine depends on order (room and equipment pools: the first free
item is assigned).

The SQL text is composed only of constants and `%s` placeholders; every value is a parameter.
"""
# ruff: noqa: S608 - see the last paragraph above: no value is ever formatted into the text.

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from scheduling.choices import ResourceKind
from scheduling.db import db_datetime

Statement = tuple[str, list]

QUOTA_FIELDS = (
    "id",
    "clinic_id",
    "doctor_id",
    "service_id",
    "channel",
    "limit",
    "release_before_hours",
)
# Each row of a weekly rule or exception ends with its clinic, the clinic's booking policy
# (NULLs without a policy row) and the public id of its room.
_PLACE_COLUMNS = (
    "c.timezone, c.public_id, p.mode, p.min_notice_minutes, p.horizon_days, rm.public_id"
)
_PLACE_JOINS = (
    "LEFT JOIN scheduling_bookingpolicy p ON p.clinic_id = c.id "
    "LEFT JOIN scheduling_room rm ON rm.id = {table}.room_id"
)


def _in(column: str, values: Collection[int]) -> Statement:
    """`column IN (...)` for a known list of ids; an empty list matches nothing."""
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@dataclass(frozen=True)
class RangeQueries:
    """The statements for one range of local dates, narrowed as `free_slots` was asked."""

    service_id: int
    doctor_id: int | None
    specialty_id: int | None
    clinic_id: int | None
    first: datetime.date
    last: datetime.date

    # -- round trip 1 ----------------------------------------------------------------------------

    def _doctor_filter(self) -> Statement:
        """Active doctors (alias `d`) who do the service, narrowed to the doctor and specialty."""
        sql = (
            "d.is_active = %s AND d.id IN (SELECT ds.doctor_id FROM scheduling_doctor_services ds"
            " WHERE ds.service_id = %s)"
        )
        params: list = [True, self.service_id]
        if self.doctor_id is not None:
            sql += " AND d.id = %s"
            params.append(self.doctor_id)
        if self.specialty_id is not None:
            sql += (
                " AND d.id IN (SELECT dsp.doctor_id FROM scheduling_doctor_specialties dsp"
                " WHERE dsp.specialty_id = %s)"
            )
            params.append(self.specialty_id)
        return sql, params

    def _doctor_ids(self) -> Statement:
        """The doctors as a list for `IN (...)`: one doctor's id as it is (if that doctor does
        not qualify, `doctors` answers nothing and the engine uses no other answer), else the
        subquery."""
        if self.doctor_id is not None:
            return "%s", [self.doctor_id]
        where, params = self._doctor_filter()
        return f"SELECT d.id FROM scheduling_doctor d WHERE {where}", params

    def _clinic(self, column: str) -> Statement:
        if self.clinic_id is None:
            return "", []
        return f" AND {column} = %s", [self.clinic_id]

    def first_round(self) -> list[Statement]:
        """The first round trip, in the order the engine reads it."""
        return [
            self.doctors(),
            self.substitutions(),
            self.rules(),
            self.exceptions(),
            self.equipment_types(),
        ]

    def doctors(self) -> Statement:
        where, params = self._doctor_filter()
        return f"SELECT d.id, d.public_id FROM scheduling_doctor d WHERE {where}", params

    def _substitution_filter(self) -> Statement:
        clinic, clinic_params = self._clinic("s.clinic_id")
        return f"s.date >= %s AND s.date <= %s{clinic}", [self.first, self.last, *clinic_params]

    def substitutions(self) -> Statement:
        """Days in the range when one of the doctors stands in for someone or is stood in for."""
        where, params = self._substitution_filter()
        doctor_ids, doctor_params = self._doctor_ids()
        return (
            "SELECT s.absent_doctor_id, s.clinic_id, s.date, s.substitute_id"
            f" FROM scheduling_substitution s WHERE {where}"
            f" AND (s.substitute_id IN ({doctor_ids}) OR s.absent_doctor_id IN ({doctor_ids}))"
            " ORDER BY s.date, s.id",
            [*params, *doctor_params, *doctor_params],
        )

    def rules(self) -> Statement:
        """Weekly rules in force in the range of the doctors and of those they stand in for,
        in active clinics, with each rule's clinic, policy and room."""
        clinic, clinic_params = self._clinic("r.clinic_id")
        doctor_ids, doctor_params = self._doctor_ids()
        substituted, substituted_params = self._substitution_filter()
        joins = _PLACE_JOINS.format(table="r")
        return (
            "SELECT r.doctor_id, r.clinic_id, r.weekday, r.valid_from, r.valid_until,"
            " r.start_time, r.end_time, r.slot_step_minutes, r.buffer_minutes, r.room_id,"
            f" r.breaks, {_PLACE_COLUMNS}"
            " FROM scheduling_schedulerule r JOIN portal_clinic c ON c.id = r.clinic_id"
            f" {joins}"
            f" WHERE c.is_active = %s{clinic} AND r.valid_from <= %s"
            " AND (r.valid_until IS NULL OR r.valid_until >= %s)"
            f" AND (r.doctor_id IN ({doctor_ids}) OR r.doctor_id IN ("
            f"SELECT s.absent_doctor_id FROM scheduling_substitution s WHERE {substituted}"
            f" AND s.substitute_id IN ({doctor_ids})))"
            " ORDER BY r.doctor_id, r.weekday, r.start_time, r.id",
            [
                True,
                *clinic_params,
                self.last,
                self.first,
                *doctor_params,
                *substituted_params,
                *doctor_params,
            ],
        )

    def exceptions(self) -> Statement:
        """The doctors' exceptions overlapping the range: network-wide ones and those of
        active clinics (of the clinic asked for, if any)."""
        clinic, clinic_params = self._clinic("e.clinic_id")
        doctor_ids, doctor_params = self._doctor_ids()
        joins = _PLACE_JOINS.format(table="e")
        return (
            "SELECT e.doctor_id, e.clinic_id, e.kind, e.date_from, e.date_to, e.start_time,"
            f" e.end_time, e.slot_step_minutes, e.room_id, {_PLACE_COLUMNS}"
            " FROM scheduling_scheduleexception e LEFT JOIN portal_clinic c ON c.id = e.clinic_id"
            f" {joins}"
            f" WHERE e.doctor_id IN ({doctor_ids}) AND e.date_from <= %s AND e.date_to >= %s"
            f" AND (e.clinic_id IS NULL OR (c.is_active = %s{clinic}))"
            " ORDER BY e.date_from, e.id",
            [*doctor_params, self.last, self.first, True, *clinic_params],
        )

    def equipment_types(self) -> Statement:
        return (
            "SELECT st.equipmenttype_id FROM scheduling_service_equipment_types st"
            " WHERE st.service_id = %s ORDER BY st.equipmenttype_id",
            [self.service_id],
        )

    # -- round trip 2 ----------------------------------------------------------------------------

    def _rooms_filter(self, *, kind: str, clinic_ids: Collection[int]) -> Statement:
        clinics, params = _in("rm.clinic_id", clinic_ids)
        return f"rm.kind = %s AND rm.is_active = %s AND {clinics}", [kind, True, *params]

    def rooms(self, *, kind: str, clinic_ids: Collection[int]) -> Statement:
        """Active rooms of the kind the service needs in the clinics, by name as in the admin."""
        where, params = self._rooms_filter(kind=kind, clinic_ids=clinic_ids)
        return (
            f"SELECT rm.id, rm.clinic_id, rm.public_id FROM scheduling_room rm WHERE {where}"
            " ORDER BY rm.clinic_id, rm.name, rm.id",
            params,
        )

    def _equipment_filter(
        self, *, clinic_ids: Collection[int], type_ids: Collection[int]
    ) -> Statement:
        clinics, clinic_params = _in("eq.clinic_id", clinic_ids)
        types, type_params = _in("eq.type_id", type_ids)
        return f"eq.is_active = %s AND {clinics} AND {types}", [True, *clinic_params, *type_params]

    def equipment(self, *, clinic_ids: Collection[int], type_ids: Collection[int]) -> Statement:
        where, params = self._equipment_filter(clinic_ids=clinic_ids, type_ids=type_ids)
        return (
            f"SELECT eq.id, eq.clinic_id, eq.type_id FROM scheduling_equipment eq WHERE {where}"
            " ORDER BY eq.clinic_id, eq.name, eq.id",
            params,
        )

    def occupancy(
        self,
        *,
        doctor_ids: Collection[int],
        clinic_ids: Collection[int],
        room_kind: str,
        rule_room_ids: Collection[int],
        equipment_type_ids: Collection[int],
        now: datetime.datetime,
        ignore_hold_id: int | None,
        ignore_appointment_id: int | None,
        with_expiry: bool = False,
        window: tuple[datetime.datetime, datetime.datetime] | None = None,
    ) -> Statement:
        """Busy spans of the doctors and of the rooms and equipment this service could use
        (appointments and unexpired holds), from a day before the range to two after it: wide
        enough for every zone's local days plus buffers. With `with_expiry`, also the rows of
        holds past their expiry, each row with its hold and expiry (the caller tells them
        apart: a booking clears the expired ones in its way). With `window`, only the spans
        overlapping it (resolving one start needs no more)."""
        doctors, params = _in("o.resource_id", doctor_ids)
        resources = f"(o.resource_kind = %s AND {doctors})"
        params = [ResourceKind.DOCTOR.value, *params]
        if room_kind:
            # Only rooms of the pool are ever checked (see `evaluate`).
            where, room_params = self._rooms_filter(kind=room_kind, clinic_ids=clinic_ids)
            resources += (
                " OR (o.resource_kind = %s AND o.resource_id IN"
                f" (SELECT rm.id FROM scheduling_room rm WHERE {where}))"
            )
            params += [ResourceKind.ROOM.value, *room_params]
        elif rule_room_ids:
            # Only the rules' own rooms are checked.
            rooms, room_params = _in("o.resource_id", rule_room_ids)
            resources += f" OR (o.resource_kind = %s AND {rooms})"
            params += [ResourceKind.ROOM.value, *room_params]
        if equipment_type_ids:
            where, item_params = self._equipment_filter(
                clinic_ids=clinic_ids, type_ids=equipment_type_ids
            )
            resources += (
                " OR (o.resource_kind = %s AND o.resource_id IN"
                f" (SELECT eq.id FROM scheduling_equipment eq WHERE {where}))"
            )
            params += [ResourceKind.EQUIPMENT.value, *item_params]
        lo = datetime.datetime.combine(self.first, datetime.time(), tzinfo=datetime.UTC)
        hi = datetime.datetime.combine(self.last, datetime.time(), tzinfo=datetime.UTC)
        columns = ", o.hold_id, o.expires_at" if with_expiry else ""
        sql = (
            f"SELECT o.resource_kind, o.resource_id, o.starts_at, o.ends_at{columns}"
            f" FROM scheduling_occupancy o WHERE ({resources})"
            " AND o.starts_at < %s AND o.ends_at > %s"
        )
        since, until = window or (lo - datetime.timedelta(days=1), hi + datetime.timedelta(days=2))
        params += [db_datetime(until), db_datetime(since)]
        if not with_expiry:
            sql += " AND (o.expires_at IS NULL OR o.expires_at > %s)"
            params.append(db_datetime(now))
        if ignore_hold_id is not None:
            sql += " AND (o.hold_id IS NULL OR o.hold_id <> %s)"
            params.append(ignore_hold_id)
        if ignore_appointment_id is not None:
            sql += " AND (o.appointment_id IS NULL OR o.appointment_id <> %s)"
            params.append(ignore_appointment_id)
        return sql, params

    def quotas(
        self, *, clinic_ids: Collection[int], doctor_ids: Collection[int], channel: str
    ) -> Statement:
        """The channel's quotas in the clinics that may apply to the doctors and the service,
        each with its counters in the range: a row per counter (the quota's columns, then the
        counter's date and count), or one with NULLs for a quota without any."""
        clinics, clinic_params = _in("q.clinic_id", clinic_ids)
        doctors, doctor_params = _in("q.doctor_id", doctor_ids)
        where = (
            f"{clinics} AND q.channel = %s AND (q.service_id IS NULL OR q.service_id = %s)"
            f" AND (q.doctor_id IS NULL OR {doctors})"
        )
        params = [*clinic_params, channel, self.service_id, *doctor_params]
        columns = ", ".join(f'q."{name}"' for name in QUOTA_FIELDS)
        return (
            f"SELECT {columns}, qc.date, qc.used FROM scheduling_quota q"
            " LEFT JOIN scheduling_quotacounter qc ON qc.quota_id = q.id"
            " AND qc.date >= %s AND qc.date <= %s"
            f" WHERE {where} ORDER BY q.id",
            [self.first, self.last, *params],
        )
