"""Resolving one start: the very computation of `free_slots`, for the days around it.

Booking services call `resolve_slot_for_booking` inside their transaction, so nothing can be
booked that `free_slots` would not offer, and what they read of the occupancy is what the
booking's own checks and writes rely on.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import NamedTuple

from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import AppointmentChannel
from scheduling.errors import InvalidInput, OutsideBookingWindow, SlotUnavailable
from scheduling.models import Appointment, Doctor, Quota, Service

from .busy import overlaps_any, visit_spans
from .clock import UTC, exists
from .engine import Engine, Refusal, Slot, schedule_candidates
from .free import LATEST_DATE, checked_channels
from .loading import Asked, Taken, load_schedule, load_taken


class Resolution(NamedTuple):
    """A slot resolved for booking, with what the booking needs of the engine's reads."""

    slot: Slot
    clinic: Clinic  # the slot's clinic, with its booking policy loaded
    quotas: list[Quota]  # the quota channel's quotas that apply to the slot
    # Expired holds in the slot's way: free for the engine, still rows for the exclusion
    # constraint (it cannot read the clock), so the booking deletes them before taking the time.
    expired_hold_ids: list[int]


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
    ignore_appointment: Appointment | None = None,
) -> Slot:
    """The slot starting exactly at `start`, or the domain error saying why it is not one.

    Holds and the appointment named by `ignore_*` do not count as occupying (the caller is
    replacing them).
    """
    return resolve_slot_for_booking(
        service=service,
        doctor=doctor,
        start=start,
        clinic=clinic,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
        ignore_hold_id=ignore_hold_id,
        ignore_appointment=ignore_appointment,
    ).slot


def resolve_slot_for_booking(
    *,
    service: Service,
    doctor: Doctor,
    start: datetime.datetime,
    clinic: Clinic | None = None,
    channel: str = AppointmentChannel.ONLINE,
    quota_channel: str | None = None,
    now: datetime.datetime | None = None,
    ignore_hold_id: int | None = None,
    ignore_appointment: Appointment | None = None,
) -> Resolution:
    """`resolve_slot` with the slot's clinic, quotas and the expired holds in its way.

    Reads the schedule of the days around `start`, then what is taken over the candidate
    visit itself (through its buffer): a fixed handful of queries.
    """
    now = now or timezone.now()
    start = checked_start(start, now=now)
    quota_channel = checked_channels(channel, quota_channel)
    first, last = days_around(start)
    asked = Asked(
        service=service,
        first=first,
        last=last,
        doctor_id=doctor.pk,
        clinic_id=getattr(clinic, "pk", None),
    )
    schedule = load_schedule(asked)
    matches = [
        c
        for c in schedule_candidates(schedule, service=service, first=first, last=last)
        if c.start == start and c.doctor_id == doctor.pk
    ]
    if not matches:
        raise SlotUnavailable(code="not_a_slot")
    until = max(c.end + datetime.timedelta(minutes=c.buffer) for c in matches)
    taken = load_taken(
        asked,
        schedule,
        since=start,
        until=until,
        now=now,
        quota_channel=quota_channel,
        ignore_hold_id=ignore_hold_id,
        ignore_appointment_id=getattr(ignore_appointment, "pk", None),
    )
    if ignore_appointment is not None and ignore_appointment.quota_channel == quota_channel:
        credit_own_quota(taken, ignore_appointment)
    engine = Engine(service=service, channel=channel, now=now, schedule=schedule, taken=taken)
    refusal: Refusal | None = None
    for candidate in matches:
        result = engine.evaluate(candidate)
        if isinstance(result, Slot):
            return Resolution(
                slot=result,
                clinic=Clinic.objects.select_related("booking_policy").get(pk=result.clinic_id),
                quotas=engine.quotas_of(result.clinic_id, result.doctor_id),
                expired_hold_ids=holds_in_the_way(taken, result),
            )
        refusal = refusal or result
    assert refusal is not None  # noqa: S101 - matches is not empty
    raise refusal.error()


def checked_start(start: object, *, now: datetime.datetime) -> datetime.datetime:
    """`start` as a UTC instant, or the domain error of a start that cannot be a slot."""
    if not isinstance(start, datetime.datetime) or timezone.is_naive(start):
        raise InvalidInput(code="naive_datetime", field="start")
    if start.date() > LATEST_DATE:
        # Checked first: converting such a start to UTC can overflow the calendar.
        raise OutsideBookingWindow(code="beyond_horizon")
    if isinstance(start.tzinfo, zoneinfo.ZoneInfo) and not exists(start):
        raise SlotUnavailable(code="dst_gap")
    if start <= now:
        raise OutsideBookingWindow(code="in_the_past")
    # Compare instants in UTC: PEP 495 makes `==` false across zones for times in a fold.
    return start.astimezone(UTC)


def days_around(start: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """A day either side of `start`'s UTC date: every zone's local date of this instant."""
    utc_day = start.date()
    return utc_day - datetime.timedelta(days=1), utc_day + datetime.timedelta(days=1)


def credit_own_quota(taken: Taken, appointment: Appointment) -> None:
    """A moved appointment does not compete with itself for its own day's quota."""
    day = appointment.starts_at.astimezone(appointment.clinic.tz).date()
    for quota in taken.quotas.get(appointment.clinic_id, ()):
        key = (quota.pk, day)
        matches = quota.matches(doctor_id=appointment.doctor_id, service_id=appointment.service_id)
        if matches and key in taken.counters:
            taken.counters[key] -= 1


def holds_in_the_way(taken: Taken, slot: Slot) -> list[int]:
    """The expired holds whose rows overlap what `slot` would occupy."""
    spans = visit_spans(
        doctor_id=slot.doctor_id,
        room_id=slot.room_id,
        equipment_ids=slot.equipment_ids,
        start=slot.start_utc,
        end=slot.end_utc,
        buffer_minutes=slot.buffer_minutes,
    )
    return sorted({hold.hold_id for hold in taken.expired_holds if overlaps_any(hold, spans)})
