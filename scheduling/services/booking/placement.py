"""Taking and releasing an appointment's time and quota."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence

from scheduling.errors import BookingError, SlotTaken
from scheduling.models import Appointment
from scheduling.selectors.availability.busy import visit_spans
from scheduling.services.occupancy import occupancy_release, occupancy_take
from scheduling.services.quotas import quota_release

from .guards import local_day


def occupy(
    appointment: Appointment,
    *,
    equipment_ids: Sequence[int],
    now: datetime.datetime,
    expired_hold_ids: Collection[int] | None = None,
    conflict: type[BookingError] = SlotTaken,
) -> None:
    """Take the appointment's time for its doctor, room and equipment (`occupancy_take`)."""
    occupancy_take(
        spans=visit_spans(
            doctor_id=appointment.doctor_id,
            room_id=appointment.room_id,
            equipment_ids=equipment_ids,
            start=appointment.starts_at,
            end=appointment.ends_at,
            buffer_minutes=appointment.buffer_minutes,
        ),
        clinic_id=appointment.clinic_id,
        now=now,
        appointment=appointment,
        expired_hold_ids=expired_hold_ids,
        conflict=conflict,
    )


def release(appointment: Appointment) -> None:
    """Free the appointment's time and give back its quota."""
    occupancy_release(appointment=appointment)
    quota_release(
        clinic=appointment.clinic_id,
        doctor_id=appointment.doctor_id,
        service_id=appointment.service_id,
        channel=appointment.quota_channel,
        day=local_day(appointment.starts_at, appointment.clinic),
    )
