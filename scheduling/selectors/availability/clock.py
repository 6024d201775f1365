"""Wall-clock arithmetic in a clinic's zone: minutes of a local day, DST gaps and folds."""

from __future__ import annotations

import datetime
import zoneinfo

UTC = datetime.UTC


def minutes_of(t: datetime.time) -> int:
    """Minutes since local midnight."""
    return t.hour * 60 + t.minute


def local_time(
    day: datetime.date, minutes: int, tz: zoneinfo.ZoneInfo, fold: int
) -> datetime.datetime:
    """The wall-clock time `minutes` after midnight of `day` in `tz` (it may not exist)."""
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz, fold=fold)


def exists(local: datetime.datetime) -> bool:
    """False for a wall-clock time skipped by a DST gap."""
    tz = local.tzinfo
    return local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None)


def is_ambiguous(local: datetime.datetime) -> bool:
    """True for a wall-clock time that happens twice (a DST fold)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def fixed_offset(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.timedelta | None:
    """The UTC offset of the whole local `day`, or None when the clocks change on it.

    Offsets at the day's start and at the next day's start, each for both folds: a transition
    on the day (or at either midnight) makes them differ.
    """
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
    end = start + datetime.timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    offset = start.utcoffset()
    for moment in (start.replace(fold=1), end, end.replace(fold=1)):
        if moment.utcoffset() != offset:
            return None
    return offset
