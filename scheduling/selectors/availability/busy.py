"""What is taken: busy intervals per resource, asked "does anything overlap?" by bisection."""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from scheduling.choices import ResourceKind


class BusySpan(NamedTuple):
    """One occupancy row as loaded: a resource busy over `[start, end)`."""

    kind: str
    resource_id: int
    start: datetime.datetime
    end: datetime.datetime


class ExpiredHold(NamedTuple):
    """An expired hold's occupancy row: free for the engine, still a row for the database
    (a constraint cannot read the clock), so a booking deletes the ones in its way."""

    kind: str
    resource_id: int
    start: datetime.datetime
    end: datetime.datetime
    hold_id: int


class BusyIndex:
    """Busy intervals per (kind, resource), sorted by start with a running maximum of ends."""

    def __init__(self, spans: Iterable[BusySpan]) -> None:
        grouped: dict[tuple[str, int], list[tuple[datetime.datetime, datetime.datetime]]] = (
            defaultdict(list)
        )
        for span in spans:
            grouped[(span.kind, span.resource_id)].append((span.start, span.end))
        self.starts: dict[tuple[str, int], list[datetime.datetime]] = {}
        self.max_ends: dict[tuple[str, int], list[datetime.datetime]] = {}
        for key, intervals in grouped.items():
            intervals.sort()
            self.starts[key] = [start for start, _end in intervals]
            running: list[datetime.datetime] = []
            for _start, end in intervals:
                running.append(end if not running or end > running[-1] else running[-1])
            self.max_ends[key] = running

    def overlaps(
        self, kind: str, resource_id: int, start: datetime.datetime, end: datetime.datetime
    ) -> bool:
        """True when something of this resource is busy at some moment of `[start, end)`."""
        starts = self.starts.get((kind, resource_id))
        if not starts:
            return False
        index = bisect.bisect_left(starts, end)
        return index > 0 and self.max_ends[(kind, resource_id)][index - 1] > start


def visit_spans(
    *,
    doctor_id: int,
    room_id: int | None,
    equipment_ids: Iterable[int],
    start: datetime.datetime,
    end: datetime.datetime,
    buffer_minutes: int,
) -> list[BusySpan]:
    """What a visit occupies: the doctor through the buffer after it; room and equipment for
    the visit itself."""
    spans = [
        BusySpan(
            ResourceKind.DOCTOR, doctor_id, start, end + datetime.timedelta(minutes=buffer_minutes)
        ),
    ]
    if room_id is not None:
        spans.append(BusySpan(ResourceKind.ROOM, room_id, start, end))
    spans.extend(BusySpan(ResourceKind.EQUIPMENT, item, start, end) for item in equipment_ids)
    return spans


def overlaps_any(span: BusySpan | ExpiredHold, spans: Iterable[BusySpan]) -> bool:
    return any(
        s.kind == span.kind
        and s.resource_id == span.resource_id
        and s.start < span.end
        and span.start < s.end
        for s in spans
    )
