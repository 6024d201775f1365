"""Where a resolved slot takes place, read for the booking with the engine's second round trip.

The booking cannot know the slot's clinic before the engine has resolved it, but it knows the
clinics the doctor may work in then (the engine's first round trip), so `place_reads` asks for
all of them (one or two rows) together with the patient's row lock and count and the ids the
booking will insert with; `place_of_booking` picks the slot's from the answers.

Plain SQL (`scheduling.db`) on the booking's hot path: composed of constants and `%s`
placeholders only; every value is a parameter.
"""
# ruff: noqa: S608 - see above: no value is ever formatted into the text.

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS

from portal.models import Clinic, Patient
from scheduling.choices import UPCOMING_STATUSES
from scheduling.db import (
    db_datetime,
    lock_rows_clause,
    model_from_row,
    reserved_id_columns,
    select_columns,
)
from scheduling.models import BookingPolicy, Room
from scheduling.selectors.availability import Slot


class Place(NamedTuple):
    clinic: Clinic
    policy: BookingPolicy
    room: Room | None  # only its id and public id loaded; the rest loads on access
    active: int  # the patient's upcoming active appointments
    ids: tuple[int, ...]  # reserved for `place_reads`' `reserve_ids_for`, in order


def place_reads(
    *,
    clinic_ids: Collection[int],
    patient: Patient,
    now: datetime.datetime,
    reserve_ids_for: tuple = (),
) -> list[tuple[str, list]]:
    """The statements `place_of_booking` reads: the clinics with their booking policies, and
    the patient's upcoming active appointments counted under a lock on the patient's row (one
    booking of a patient at a time: run them inside the booking's transaction), with
    `reserve_ids_for` new ids for those models in the same row
    (`scheduling.db.reserved_id_columns`)."""
    statuses = ", ".join(["%s"] * len(UPCOMING_STATUSES))
    ids, ids_params = reserved_id_columns(*reserve_ids_for) if reserve_ids_for else ("", [])
    ids = f", {ids}" if ids else ""
    clinics = ", ".join(["%s"] * len(clinic_ids))
    statements = [
        (
            f"SELECT {select_columns(Clinic, 'c')}, {select_columns(BookingPolicy, 'p')}"
            " FROM portal_clinic c LEFT JOIN scheduling_bookingpolicy p ON p.clinic_id = c.id"
            f" WHERE c.id IN ({clinics})",
            list(clinic_ids),
        ),
        (
            "SELECT (SELECT COUNT(*) FROM scheduling_appointment a WHERE a.patient_id = pt.id"
            f" AND a.status IN ({statuses}) AND a.starts_at > %s){ids}"
            f" FROM portal_patient pt WHERE pt.id = %s{lock_rows_clause()}",
            [*UPCOMING_STATUSES, db_datetime(now), *ids_params, patient.pk],
        ),
    ]
    return statements


def place_of_booking(slot: Slot, rows: list[list[tuple]]) -> Place:
    """The slot's clinic, its booking policy (defaults without a row) and its room, the
    patient's count and the reserved ids, from the answers to `place_reads`."""
    places, ((active, *ids),) = rows
    width = len(Clinic._meta.concrete_fields)
    (row,) = [row for row in places if row[0] == slot.clinic_id]
    clinic = model_from_row(Clinic, row[:width])
    if row[width] is None:  # no policy row: the defaults
        policy = BookingPolicy(clinic=clinic)
    else:
        policy = model_from_row(BookingPolicy, row[width:])
        policy.clinic = clinic
    room = None
    if slot.room_id is not None:
        room = Room.from_db(
            DEFAULT_DB_ALIAS, ["id", "public_id"], [slot.room_id, slot.room_public_id]
        )
    return Place(clinic, policy, room, active, tuple(ids))
