"""The engine's schedule reads in plain SQL through Django's cursor, rows by column name.

These few reads run on every slot request and every booking, always in the same shape; built
through the ORM they cost several times what the database spends on them (`make bench`), so
they are written out here. Each row becomes the caller's named tuple by column name (`fetch`),
never by position. Parameters are ids, booleans, strings and dates, which both databases take
as they are, and the instants of the busy read, prepared by their model field (`busy_sql`).

Every statement is portable between PostgreSQL and SQLite; the text is made of constants and
`%s` placeholders only, and every value is a parameter.
"""
# ruff: noqa: S608 - see above: no value is ever formatted into the text.

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from django.db import connection

from scheduling.choices import ResourceKind

T = TypeVar("T")
Statement = tuple[str, list[Any]]


def fetch(row_type: Callable[..., T], sql: str, params: Sequence[Any]) -> list[T]:
    """The rows of `sql`, each as `row_type(**{column: value})`."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        names = [column[0] for column in cursor.description]
        return [row_type(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def in_list(column: str, ids: Collection[int]) -> tuple[str, list[int]]:
    """`column IN (...)` for a known list of ids; an empty list matches nothing."""
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column's value: PostgreSQL answers UUIDs, SQLite 32 hex digits."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else as_uuid(value)


def as_json(value: Any) -> Any:
    """A JSON column's value: PostgreSQL answers it decoded, SQLite as text."""
    return json.loads(value) if isinstance(value, str) else value


def doctors_sql(*, service_id: int, doctor_id: int | None, specialty_id: int | None) -> Statement:
    sql = (
        "SELECT d.id, d.public_id FROM scheduling_doctor d"
        " JOIN scheduling_doctor_services ds ON ds.doctor_id = d.id"
        " WHERE d.is_active = %s AND ds.service_id = %s"
    )
    params: list[Any] = [True, service_id]
    if doctor_id is not None:
        sql += " AND d.id = %s"
        params.append(doctor_id)
    if specialty_id is not None:
        sql += (
            " AND d.id IN (SELECT dsp.doctor_id FROM scheduling_doctor_specialties dsp"
            " WHERE dsp.specialty_id = %s)"
        )
        params.append(specialty_id)
    return sql + " ORDER BY d.id", params


def stand_ins_sql(
    *,
    doctor_ids: Collection[int],
    first: datetime.date,
    last: datetime.date,
    clinic_id: int | None,
) -> Statement:
    """Days in the range when one of the doctors stands in for someone or is stood in for."""
    substitutes, ids = in_list("s.substitute_id", doctor_ids)
    absents, _ids = in_list("s.absent_doctor_id", doctor_ids)
    sql = (
        "SELECT s.absent_doctor_id, s.clinic_id, s.date, s.substitute_id"
        " FROM scheduling_substitution s WHERE s.date >= %s AND s.date <= %s"
        f" AND ({substitutes} OR {absents})"
    )
    params: list[Any] = [first, last, *ids, *ids]
    if clinic_id is not None:
        sql += " AND s.clinic_id = %s"
        params.append(clinic_id)
    return sql + " ORDER BY s.date, s.id", params


def rules_sql(
    *,
    doctor_ids: Collection[int],
    first: datetime.date,
    last: datetime.date,
    clinic_id: int | None,
) -> Statement:
    """Weekly rules in force in the range, in active clinics, with their rooms' public ids."""
    doctors, ids = in_list("r.doctor_id", doctor_ids)
    sql = (
        "SELECT r.doctor_id, r.clinic_id, r.weekday, r.valid_from, r.valid_until,"
        " r.start_time, r.end_time, r.slot_step_minutes, r.buffer_minutes, r.room_id,"
        " rm.public_id AS room_public_id, r.breaks"
        " FROM scheduling_schedulerule r JOIN portal_clinic c ON c.id = r.clinic_id"
        " LEFT JOIN scheduling_room rm ON rm.id = r.room_id"
        f" WHERE c.is_active = %s AND {doctors} AND r.valid_from <= %s"
        " AND (r.valid_until IS NULL OR r.valid_until >= %s)"
    )
    params: list[Any] = [True, *ids, last, first]
    if clinic_id is not None:
        sql += " AND r.clinic_id = %s"
        params.append(clinic_id)
    return sql + " ORDER BY r.doctor_id, r.weekday, r.start_time, r.id", params


def changes_sql(
    *,
    doctor_ids: Collection[int],
    first: datetime.date,
    last: datetime.date,
    clinic_id: int | None,
) -> Statement:
    """Exceptions overlapping the range: network-wide ones and those of active clinics (of
    the clinic asked for, if any)."""
    doctors, ids = in_list("e.doctor_id", doctor_ids)
    in_clinic = "c.is_active = %s" + ("" if clinic_id is None else " AND e.clinic_id = %s")
    sql = (
        "SELECT e.doctor_id, e.clinic_id, e.kind, e.date_from, e.date_to, e.start_time,"
        " e.end_time, e.slot_step_minutes, e.room_id, rm.public_id AS room_public_id"
        " FROM scheduling_scheduleexception e LEFT JOIN portal_clinic c ON c.id = e.clinic_id"
        " LEFT JOIN scheduling_room rm ON rm.id = e.room_id"
        f" WHERE {doctors} AND e.date_from <= %s AND e.date_to >= %s"
        f" AND (e.clinic_id IS NULL OR ({in_clinic}))"
        " ORDER BY e.date_from, e.id"
    )
    params: list[Any] = [*ids, last, first, True]
    if clinic_id is not None:
        params.append(clinic_id)
    return sql, params


def clinics_sql(clinic_ids: Collection[int]) -> Statement:
    """The clinics with their booking policies' columns (NULLs without a policy row)."""
    clinics, params = in_list("c.id", clinic_ids)
    return (
        "SELECT c.id, c.public_id, c.timezone, p.mode, p.min_notice_minutes, p.horizon_days"
        " FROM portal_clinic c LEFT JOIN scheduling_bookingpolicy p ON p.clinic_id = c.id"
        f" WHERE {clinics} ORDER BY c.id",
        params,
    )


def equipment_types_sql(service_id: int) -> Statement:
    return (
        "SELECT st.equipmenttype_id AS type_id FROM scheduling_service_equipment_types st"
        " WHERE st.service_id = %s ORDER BY st.equipmenttype_id",
        [service_id],
    )


def rooms_sql(*, kind: str, clinic_ids: Collection[int]) -> Statement:
    """Active rooms of the kind in the clinics, by name as in the admin."""
    clinics, params = in_list("rm.clinic_id", clinic_ids)
    return (
        "SELECT rm.id, rm.clinic_id, rm.public_id FROM scheduling_room rm"
        f" WHERE rm.kind = %s AND rm.is_active = %s AND {clinics}"
        " ORDER BY rm.clinic_id, rm.name, rm.id",
        [kind, True, *params],
    )


def equipment_sql(*, type_ids: Collection[int], clinic_ids: Collection[int]) -> Statement:
    clinics, clinic_params = in_list("eq.clinic_id", clinic_ids)
    types, type_params = in_list("eq.type_id", type_ids)
    return (
        "SELECT eq.id, eq.clinic_id, eq.type_id FROM scheduling_equipment eq"
        f" WHERE eq.is_active = %s AND {clinics} AND {types}"
        " ORDER BY eq.clinic_id, eq.name, eq.id",
        [True, *clinic_params, *type_params],
    )


def quotas_sql(
    *, clinic_ids: Collection[int], doctor_ids: Collection[int], service_id: int, channel: str
) -> Statement:
    """The channel's quotas in the clinics that may apply to the doctors and the service."""
    clinics, clinic_params = in_list("q.clinic_id", clinic_ids)
    doctors, doctor_params = in_list("q.doctor_id", doctor_ids)
    return (
        'SELECT q.id, q.clinic_id, q.doctor_id, q.service_id, q.channel, q."limit",'
        " q.release_before_hours FROM scheduling_quota q"
        f" WHERE {clinics} AND q.channel = %s"
        " AND (q.service_id IS NULL OR q.service_id = %s)"
        f" AND (q.doctor_id IS NULL OR {doctors}) ORDER BY q.id",
        [*clinic_params, channel, service_id, *doctor_params],
    )


def counters_sql(
    *, quota_ids: Collection[int], first: datetime.date, last: datetime.date
) -> Statement:
    quotas, ids = in_list("qc.quota_id", quota_ids)
    return (
        "SELECT qc.quota_id, qc.date, qc.used, qc.day_limit FROM scheduling_quotacounter qc"
        f" WHERE {quotas} AND qc.date >= %s AND qc.date <= %s",
        [*ids, first, last],
    )


# A `timestamptz` read as its UTC wall time on PostgreSQL: a plain `timestamp`, which psycopg's
# C loader reads as a naive datetime (its Python loader for `timestamptz` costs a few
# microseconds a value, thousands per slot request; `scheduling.db.UtcInstant`). SQLite keeps
# UTC wall times already. The caller makes each value aware (`scheduling.db.as_utc`).
_UTC_WALL_TIME = {"postgresql": "({} AT TIME ZONE 'UTC')"}


def utc_wall_time(column: str) -> str:
    return _UTC_WALL_TIME.get(connection.vendor, "{}").format(column)


def busy_sql(
    *,
    resources: Sequence[tuple[str, Collection[int]]],
    closed_rooms: Collection[int],
    closed_items: Collection[int],
    since: Any,
    until: Any,
    ignore_hold_id: int | None,
    ignore_appointment_id: int | None,
) -> Statement:
    """Occupancy rows of the resources (kind, ids) over `[since, until)`, and the closures in
    force of the rooms and equipment items in the same shape (their kind and id, no hold, no
    expiry), in one statement. Rows of the hold or appointment named by `ignore_*` are left
    out. `since` and `until` come prepared for the database (`DateTimeField.get_db_prep_value`):
    instants are the one kind of parameter the two databases store differently."""
    kinds = []
    params: list[Any] = []
    for kind, ids in resources:
        ids_in, ids_params = in_list("o.resource_id", ids)
        kinds.append(f"(o.resource_kind = %s AND {ids_in})")
        params += [kind, *ids_params]
    sql = (
        "SELECT o.resource_kind AS kind, o.resource_id AS resource_id, o.hold_id,"
        f" {utc_wall_time('o.starts_at')} AS start, {utc_wall_time('o.ends_at')} AS end_at,"
        f" {utc_wall_time('o.expires_at')} AS expires_at"
        f" FROM scheduling_occupancy o WHERE ({' OR '.join(kinds)})"
        " AND o.starts_at < %s AND o.ends_at > %s"
    )
    params += [until, since]
    if ignore_hold_id is not None:
        sql += " AND (o.hold_id IS NULL OR o.hold_id <> %s)"
        params.append(ignore_hold_id)
    if ignore_appointment_id is not None:
        sql += " AND (o.appointment_id IS NULL OR o.appointment_id <> %s)"
        params.append(ignore_appointment_id)
    if not closed_rooms and not closed_items:
        return sql, params
    rooms, room_params = in_list("c.room_id", closed_rooms)
    items, item_params = in_list("c.equipment_id", closed_items)
    sql += (
        " UNION ALL SELECT CASE WHEN c.room_id IS NOT NULL THEN %s ELSE %s END,"
        " COALESCE(c.room_id, c.equipment_id), NULL,"
        f" {utc_wall_time('c.starts_at')}, {utc_wall_time('c.ends_at')}, NULL"
        f" FROM scheduling_resourceclosure c WHERE ({rooms} OR {items})"
        " AND c.starts_at < %s AND c.ends_at > %s AND c.lifted_at IS NULL"
    )
    params += [ResourceKind.ROOM.value, ResourceKind.EQUIPMENT.value]
    params += [*room_params, *item_params, until, since]
    return sql, params
