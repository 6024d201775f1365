"""The checks that turn a schedule's candidate into a bookable slot, or say why not.

In order: the clinic takes bookings natively (a clinic in request mode takes them from its
own staff only: patients leave requests that staff confirm), the start is in the future and
after the minimum notice (self-service channels), within the horizon, under the quotas, the
doctor is free through the buffer, a room of the kind (or the rule's own room) is free, and one
item of each equipment type the service needs is free.
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from scheduling.choices import SELF_SERVICE_CHANNELS, BookingMode, ResourceKind
from scheduling.errors import (
    BookingError,
    OutsideBookingWindow,
    QuotaExceeded,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import Quota, Service
from scheduling.slot_ids import SlotIdMaker

from .clock import UTC
from .loading import ClinicRow, Schedule, Taken
from .schedule import Candidate, candidates, days_between, working_windows


class Slot(NamedTuple):
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


class Refusal(NamedTuple):
    """Why a candidate is not a slot; the translated domain error is built only when raised."""

    error_class: type[BookingError]
    code: str | None = None

    def error(self) -> BookingError:
        return self.error_class(code=self.code) if self.code else self.error_class()


NOT_NATIVE = Refusal(SlotUnavailable, "clinic_not_native")
IN_THE_PAST = Refusal(OutsideBookingWindow, "in_the_past")
MIN_NOTICE = Refusal(OutsideBookingWindow, "min_notice")
BEYOND_HORIZON = Refusal(OutsideBookingWindow, "beyond_horizon")
QUOTA_USED_UP = Refusal(QuotaExceeded)
TAKEN = Refusal(SlotTaken)
NO_ROOM = Refusal(SlotUnavailable, "no_room")
ROOM_TAKEN = Refusal(SlotTaken, "room_taken")
NO_EQUIPMENT = Refusal(SlotUnavailable, "no_equipment")
EQUIPMENT_TAKEN = Refusal(SlotTaken, "equipment_taken")


class ClinicLimits(NamedTuple):
    """A clinic's booking-window checks, worked out once per clinic and request."""

    clinic: ClinicRow
    tz: zoneinfo.ZoneInfo
    native: bool
    earliest: datetime.datetime | None  # the minimum notice, for self-service channels
    last_day: datetime.date


def schedule_candidates(
    schedule: Schedule, *, service: Service, first: datetime.date, last: datetime.date
) -> Iterator[Candidate]:
    """Every start the schedule allows from `first` to `last` (local dates), before
    occupancy, quotas and policy."""
    windows = working_windows(
        days=days_between(first, last),
        doctor_ids=schedule.doctors,
        rules=schedule.rules,
        changes=schedule.changes,
        stand_ins=schedule.stand_ins,
    )
    zones = {pk: clinic.tz for pk, clinic in schedule.clinics.items()}
    duration = datetime.timedelta(minutes=service.duration_minutes)
    return candidates(windows, zones=zones, duration=duration)


@dataclass
class Engine:
    """The checks of a schedule's candidates against what is taken."""

    service: Service
    channel: str
    now: datetime.datetime
    schedule: Schedule
    taken: Taken
    limits: dict[int, ClinicLimits] = field(default_factory=dict, init=False, repr=False)
    matching_quotas: dict[tuple[int, int], list[Quota]] = field(
        default_factory=dict, init=False, repr=False
    )
    room_public_ids: dict[int, uuid.UUID] = field(default_factory=dict, init=False, repr=False)
    slot_ids: SlotIdMaker = field(default_factory=SlotIdMaker, init=False, repr=False)

    def __post_init__(self) -> None:
        self.room_public_ids = {**self.schedule.room_public_ids(), **self.taken.room_public_ids}

    def clinic_limits(self, clinic_id: int) -> ClinicLimits:
        limits = self.limits.get(clinic_id)
        if limits is None:
            clinic = self.schedule.clinics[clinic_id]
            earliest = None
            if self.channel in SELF_SERVICE_CHANNELS:
                earliest = self.now + datetime.timedelta(minutes=clinic.min_notice_minutes)
            tz = clinic.tz
            limits = ClinicLimits(
                clinic=clinic,
                tz=tz,
                native=clinic.native
                or (
                    clinic.mode in (BookingMode.REQUEST, BookingMode.CONNECTOR)
                    and self.channel not in SELF_SERVICE_CHANNELS
                ),
                earliest=earliest,
                last_day=self.now.astimezone(tz).date()
                + datetime.timedelta(days=clinic.horizon_days),
            )
            self.limits[clinic_id] = limits
        return limits

    def quotas_of(self, clinic_id: int, doctor_id: int) -> list[Quota]:
        """The loaded quotas that apply to this doctor and the service in this clinic."""
        found = self.matching_quotas.get((clinic_id, doctor_id))
        if found is None:
            found = [
                q
                for q in self.taken.quotas.get(clinic_id, ())
                if q.matches(doctor_id=doctor_id, service_id=self.service.pk)
            ]
            self.matching_quotas[(clinic_id, doctor_id)] = found
        return found

    def evaluate(self, c: Candidate) -> Slot | Refusal:
        """The slot for candidate `c`, or the first rule that refuses it."""
        limits = self.clinic_limits(c.clinic_id)
        refusal = self._window_refusal(c, limits) or self._quota_refusal(c)
        if refusal is not None:
            return refusal
        busy = self.taken.busy
        busy_until = c.end + datetime.timedelta(minutes=c.buffer)
        if busy.overlaps(ResourceKind.DOCTOR, c.doctor_id, c.start, busy_until):
            return TAKEN
        room = self._free_room(c)
        if isinstance(room, Refusal):
            return room
        equipment = self._free_equipment(c)
        if isinstance(equipment, Refusal):
            return equipment
        clinic = limits.clinic
        doctor_public_id = self.schedule.doctors[c.doctor_id]
        return Slot(
            slot_id=self.slot_ids.make(
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
            start=c.start.astimezone(limits.tz),
            end=c.end.astimezone(limits.tz),
            room_id=room,
            equipment_ids=equipment,
            buffer_minutes=c.buffer,
            room_public_id=None if room is None else self.room_public_ids.get(room),
        )

    def _window_refusal(self, c: Candidate, limits: ClinicLimits) -> Refusal | None:
        if not limits.native:
            return NOT_NATIVE
        if c.start <= self.now:
            return IN_THE_PAST
        if limits.earliest is not None and c.start < limits.earliest:
            return MIN_NOTICE
        if c.day > limits.last_day:
            return BEYOND_HORIZON
        return None

    def _quota_refusal(self, c: Candidate) -> Refusal | None:
        if not self.taken.quotas:  # most clinics keep no quotas for most channels
            return None
        for quota in self.quotas_of(c.clinic_id, c.doctor_id):
            used = self.taken.counters.get((quota.pk, c.day), 0)
            limit = self.taken.limit_of(quota, c.day)
            if used >= limit and not quota.is_released(start=c.start, now=self.now):
                return QUOTA_USED_UP
        return None

    def _free_room(self, c: Candidate) -> int | None | Refusal:
        """The room of the visit: one of the kind the service needs (the rule's own first),
        or the rule's room; None when neither applies."""
        overlaps = self.taken.busy.overlaps
        if self.service.room_kind:
            pool = self.taken.rooms.get(c.clinic_id, [])
            if not pool:
                return NO_ROOM
            ordered = [c.rule_room_id] if c.rule_room_id in pool else []
            ordered += [room for room in pool if room != c.rule_room_id]
            for room in ordered:
                if not overlaps(ResourceKind.ROOM, room, c.start, c.end):
                    return room
            return ROOM_TAKEN
        if c.rule_room_id is not None and overlaps(
            ResourceKind.ROOM, c.rule_room_id, c.start, c.end
        ):
            return ROOM_TAKEN
        return c.rule_room_id

    def _free_equipment(self, c: Candidate) -> tuple[int, ...] | Refusal:
        """One free item of each equipment type the service needs."""
        overlaps = self.taken.busy.overlaps
        chosen = []
        for type_id in self.schedule.equipment_types:
            pool = self.taken.equipment.get((c.clinic_id, type_id), [])
            if not pool:
                return NO_EQUIPMENT
            item = next(
                (e for e in pool if not overlaps(ResourceKind.EQUIPMENT, e, c.start, c.end)),
                None,
            )
            if item is None:
                return EQUIPMENT_TAKEN
            chosen.append(item)
        return tuple(chosen)
