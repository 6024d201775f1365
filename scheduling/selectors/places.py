"""Where a resolved slot takes place, read for the booking in one round trip.

Plain SQL (`scheduling.db`) on the booking's hot path: composed of constants and `%s`
placeholders only; every value is a parameter.
"""
# ruff: noqa: S608 - see above: no value is ever formatted into the text.

from __future__ import annotations

import datetime
from typing import NamedTuple

from portal.models import Clinic, Patient
from scheduling.choices import UPCOMING_STATUSES
from scheduling.db import (
    db_datetime,
    lock_rows_clause,
    model_from_row,
    reserve_ids,
    run_batch,
    select_columns,
)
from scheduling.models import BookingPolicy, Room
from scheduling.selectors.availability import Slot


class Place(NamedTuple):
    clinic: Clinic
    policy: BookingPolicy
    room: Room | None
    active: int  # the patient's upcoming active appointments
    ids: tuple[int, ...]  # reserved for `reserve_ids_for`, in order


def place_of_booking(
    slot: Slot, *, patient: Patient, now: datetime.datetime, reserve_ids_for: tuple = ()
) -> Place:
    """The slot's clinic, its booking policy (defaults without a row) and its room, and the
    patient's upcoming active appointments, counted under a lock on the patient's row (one
    booking of a patient at a time: call it inside the booking's transaction); with new ids
    for the models `reserve_ids_for` (`scheduling.db.reserve_ids`) in the same round trip."""
    statuses = ", ".join(["%s"] * len(UPCOMING_STATUSES))
    statements = [
        (
            f"SELECT {select_columns(Clinic, 'c')}, {select_columns(BookingPolicy, 'p')}"
            " FROM portal_clinic c LEFT JOIN scheduling_bookingpolicy p ON p.clinic_id = c.id"
            " WHERE c.id = %s",
            [slot.clinic_id],
        ),
        (
            "SELECT (SELECT COUNT(*) FROM scheduling_appointment a WHERE a.patient_id = pt.id"
            f" AND a.status IN ({statuses}) AND a.starts_at > %s)"
            f" FROM portal_patient pt WHERE pt.id = %s{lock_rows_clause()}",
            [*UPCOMING_STATUSES, db_datetime(now), patient.pk],
        ),
    ]
    if reserve_ids_for:
        statements.append(reserve_ids(*reserve_ids_for))
    if slot.room_id is not None:
        statements.append(
            (
                f"SELECT {select_columns(Room, 'r')} FROM scheduling_room r WHERE r.id = %s",
                [slot.room_id],
            )
        )
    places, counts, *rest = run_batch(statements)
    ids = tuple(rest.pop(0)[0]) if reserve_ids_for else ()
    rooms = rest
    (row,) = places
    width = len(Clinic._meta.concrete_fields)
    clinic = model_from_row(Clinic, row[:width])
    if row[width] is None:  # no policy row: the defaults
        policy = BookingPolicy(clinic=clinic)
    else:
        policy = model_from_row(BookingPolicy, row[width:])
        policy.clinic = clinic
    room = model_from_row(Room, rooms[0][0]) if rooms else None
    ((active,),) = counts
    return Place(clinic, policy, room, active, ids)
