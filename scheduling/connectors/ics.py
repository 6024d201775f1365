"""iCalendar busy-time connector: an external calendar's ICS feed says when the clinic is
busy; free slots are our doctors' working hours there minus that busy time.

The feed is read-only, so booking raises `ReadOnly` and the booking becomes a request that
the clinic's staff confirm. Events marked TRANSPARENT or CANCELLED are not busy; all-day
events block the whole local day; floating times (no zone) are the clinic's wall clock;
recurring events (RRULE, RDATE, EXDATE) are expanded over the range asked. VFREEBUSY
periods of type BUSY count as well.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import icalendar
from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped]

from . import http
from .base import (
    BadPayload,
    BookingOrder,
    ConnectorSettings,
    ExternalAppointment,
    ExternalSlot,
    Health,
    ReadOnly,
    SlotGone,
    SlotQuery,
    register,
)

Period = tuple[datetime.datetime, datetime.datetime]
MAX_OCCURRENCES = 2000  # of one recurring event within a range


def _aware(value: Any, tz: datetime.tzinfo) -> datetime.datetime:
    """A DTSTART/DTEND value → aware UTC; a date is the start of that local day."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(datetime.UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time(0), tzinfo=tz).astimezone(
            datetime.UTC
        )
    raise BadPayload("event time")


def _event_periods(
    event: Any, tz: datetime.tzinfo, lower: datetime.datetime, upper
) -> list[Period]:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return []
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return []
    dtstart = event.get("DTSTART")
    if dtstart is None:
        raise BadPayload("event without DTSTART")
    raw_start = dtstart.dt
    start = _aware(raw_start, tz)
    if event.get("DTEND") is not None:
        end = _aware(event.get("DTEND").dt, tz)
    elif event.get("DURATION") is not None:
        end = start + event.get("DURATION").dt
    elif isinstance(raw_start, datetime.datetime):
        end = start
    else:
        end = _aware(raw_start + datetime.timedelta(days=1), tz)
    if end < start:
        raise BadPayload("event ends before it starts")
    length = end - start
    if event.get("RRULE") is None and event.get("RDATE") is None:
        return [(start, end)] if start < upper and end > lower else []
    return [(s, s + length) for s in _occurrences(event, raw_start, tz, lower - length, upper)]


def _occurrences(event: Any, raw_start: Any, tz, lower, upper) -> list[datetime.datetime]:
    """Starts of a recurring event within [lower, upper), as aware UTC instants."""
    # Recurrence is expanded in the event's own zone, so that DST keeps its wall-clock time.
    local_start = raw_start
    if not isinstance(local_start, datetime.datetime):
        local_start = datetime.datetime.combine(local_start, datetime.time(0))
    if local_start.tzinfo is None:
        local_start = local_start.replace(tzinfo=tz)
    rules = rruleset()
    try:
        for rule in _as_list(event.get("RRULE")):
            rules.rrule(rrulestr(rule.to_ical().decode(), dtstart=local_start))
        for rdate in _as_list(event.get("RDATE")):
            for item in rdate.dts:
                rules.rdate(_local(item.dt, tz))
        for exdate in _as_list(event.get("EXDATE")):
            for item in exdate.dts:
                rules.exdate(_local(item.dt, tz))
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadPayload("recurrence") from exc
    found = []
    for start in rules.between(lower.astimezone(tz), upper.astimezone(tz), inc=True):
        found.append(start.astimezone(datetime.UTC))
        if len(found) >= MAX_OCCURRENCES:
            break
    return found


def _local(value: Any, tz) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time(0))
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def busy_periods(
    payload: bytes, *, tz: datetime.tzinfo, lower: datetime.datetime, upper: datetime.datetime
) -> list[Period]:
    """Busy periods of an ICS feed that overlap [lower, upper), merged and sorted, in UTC;
    `BadPayload` for anything that is not a readable calendar."""
    try:
        calendar = icalendar.Calendar.from_ical(payload)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise BadPayload("not an iCalendar feed") from exc
    if calendar.name != "VCALENDAR":
        raise BadPayload("not a VCALENDAR")
    periods: list[Period] = []
    try:
        for component in calendar.walk():
            if component.name == "VEVENT":
                periods.extend(_event_periods(component, tz, lower, upper))
            elif component.name == "VFREEBUSY":
                periods.extend(_free_busy_periods(component, tz))
    except BadPayload:
        raise
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise BadPayload("unreadable event") from exc
    return merge([(s, e) for s, e in periods if s < upper and e > lower])


def _free_busy_periods(component: Any, tz: datetime.tzinfo) -> list[Period]:
    """The BUSY periods of a VFREEBUSY (FREEBUSY lines, each one or more periods)."""
    found = []
    for value in _as_list(component.get("FREEBUSY")):
        for period in value if isinstance(value, list) else [value]:
            if str(period.params.get("FBTYPE", "BUSY")).upper() == "BUSY":
                found.append((_aware(period.start, tz), _aware(period.end, tz)))
    return found


def merge(periods: list[Period]) -> list[Period]:
    merged: list[Period] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlaps(periods: list[Period], start: datetime.datetime, end: datetime.datetime) -> bool:
    return any(s < end and e > start for s, e in periods)


@register("ics")
class IcsConnector:
    kind = "ics"
    can_book = False

    def __init__(self, settings: ConnectorSettings) -> None:
        self.url = settings.base_url
        self.timeout = settings.timeout
        self.secret = settings.secret
        self.tz = zoneinfo.ZoneInfo(settings.clinic_timezone)
        self.clinic_id = settings.clinic_id

    def fetch_busy(self, lower: datetime.datetime, upper: datetime.datetime) -> list[Period]:
        headers = {"Accept": "text/calendar"}
        if self.secret:
            headers["Authorization"] = f"Bearer {self.secret}"
        answer = http.call("GET", self.url, timeout=self.timeout, headers=headers)
        if answer.status != 200:
            raise BadPayload(f"HTTP {answer.status}")
        return busy_periods(answer.body, tz=self.tz, lower=lower, upper=upper)

    def free_slots(self, query: SlotQuery) -> list[ExternalSlot]:
        # Working hours are ours (the clinic's schedule rules); only busy time is theirs.
        from scheduling.selectors.connector_hours import working_slots

        busy = self.fetch_busy(query.start, query.end)
        return [
            slot
            for slot in working_slots(
                clinic_id=self.clinic_id,
                service_code=query.service_code,
                doctor_public_id=query.doctor_public_id,
                start=query.start,
                end=query.end,
            )
            if not overlaps(busy, slot.start, slot.end)
        ]

    def verify(self, slot: ExternalSlot) -> ExternalSlot:
        if overlaps(self.fetch_busy(slot.start, slot.end), slot.start, slot.end):
            raise SlotGone("busy in the calendar")
        return slot

    def book(self, order: BookingOrder) -> ExternalAppointment:
        raise ReadOnly("read-only feed")

    def cancel(self, external_id: str) -> None:
        raise ReadOnly("read-only feed")

    def reschedule(self, external_id: str, order: BookingOrder) -> ExternalAppointment:
        raise ReadOnly("read-only feed")

    def health(self) -> Health:
        now = datetime.datetime.now(datetime.UTC)
        busy = self.fetch_busy(now, now + datetime.timedelta(days=7))
        return Health(ok=True, detail=f"{len(busy)} busy periods this week")
