"""`free_slots`: every bookable slot of a service over a range of local dates."""

from __future__ import annotations

import datetime

from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import APPOINTMENT_CHANNELS, QUOTA_CHANNEL_OF, AppointmentChannel
from scheduling.errors import InvalidInput
from scheduling.models import Doctor, Service, Specialty

from .clock import UTC
from .engine import Engine, Slot, schedule_candidates
from .loading import Asked, Schedule, load_schedule, load_taken

MAX_RANGE_DAYS = 62
# The engine pads a range by a few days either side (time zones, buffers); the calendar's first
# and last days cannot be padded, and no clinic books anywhere near them.
EARLIEST_DATE = datetime.date.min + datetime.timedelta(days=7)
LATEST_DATE = datetime.date.max - datetime.timedelta(days=7)


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


def checked_channels(channel: str, quota_channel: str | None) -> str | None:
    """The quota channel that applies to a booking through `channel` (its default unless
    another is named); an unknown channel raises `InvalidInput`."""
    if channel not in APPOINTMENT_CHANNELS:
        raise InvalidInput(code="invalid_channel")
    return quota_channel if quota_channel is not None else QUOTA_CHANNEL_OF[channel]


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
    quota_channel = checked_channels(channel, quota_channel)
    now = now or timezone.now()
    asked = Asked(
        service=service,
        first=first,
        last=last,
        doctor_id=getattr(doctor, "pk", None),
        specialty_id=getattr(specialty, "pk", None),
        clinic_id=getattr(clinic, "pk", None),
    )
    return free_slots_in(
        load_schedule(asked),
        asked=asked,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
    )


def free_slots_in(
    schedule: Schedule,
    *,
    asked: Asked,
    channel: str,
    quota_channel: str | None,
    now: datetime.datetime,
) -> list[Slot]:
    """`free_slots` over a schedule already read (`load_schedule`, or a page's own
    `load_doctors_schedule(...).narrowed_to(...)` for the doctors `asked` names): what is
    taken is read here (two queries at most, three with quotas), the rest is arithmetic."""
    if not schedule.clinics:
        return []
    first, last, service = asked.first, asked.last, asked.service
    # What is taken from a day before the range to two after it: every zone's local days of
    # the range, with buffers, lie inside.
    since = datetime.datetime.combine(first, datetime.time(), tzinfo=UTC) - datetime.timedelta(
        days=1
    )
    until = datetime.datetime.combine(last, datetime.time(), tzinfo=UTC) + datetime.timedelta(
        days=2
    )
    taken = load_taken(
        asked, schedule, since=since, until=until, now=now, quota_channel=quota_channel
    )
    engine = Engine(service=service, channel=channel, now=now, schedule=schedule, taken=taken)
    found = []
    for candidate in schedule_candidates(schedule, service=service, first=first, last=last):
        result = engine.evaluate(candidate)
        if isinstance(result, Slot):
            found.append((candidate.start, candidate.doctor_id, candidate.clinic_id, result))
    # Sort by instant (the candidate's UTC start): same-zone aware datetimes compare by wall
    # clock, ignoring `fold`. The sort is stable, so equal keys keep the engine's order.
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found]
