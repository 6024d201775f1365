"""A doctor's working hours over a few days, as the engine computes them for slots.

The same rules, exceptions and substitutions `load_schedule` reads, turned into windows by the
same `working_windows`: three queries, whatever the range. The doctor's day page shows these
beside the visits.
"""

from __future__ import annotations

import datetime

from . import queries
from .queries import as_json, as_optional_uuid, fetch
from .schedule import Rule, ScheduleChange, StandIn, days_between, working_windows


def working_hours(
    *, doctor_id: int, first: datetime.date, last: datetime.date
) -> dict[tuple[int, datetime.date], list[tuple[datetime.time, datetime.time]]]:
    """Working windows of one doctor per (clinic id, local day) from `first` to `last`, as
    wall-clock (start, end) pairs in the clinic's zone, after breaks, substitutions, extra
    hours and absences. Days without work are absent from the answer."""
    stand_ins = fetch(
        StandIn,
        *queries.stand_ins_sql(doctor_ids=[doctor_id], first=first, last=last, clinic_id=None),
    )
    stood_in_for = {s.absent_doctor_id for s in stand_ins if s.substitute_id == doctor_id}
    rules = [
        rule._replace(
            breaks=as_json(rule.breaks), room_public_id=as_optional_uuid(rule.room_public_id)
        )
        for rule in fetch(
            Rule,
            *queries.rules_sql(
                doctor_ids=[doctor_id, *stood_in_for], first=first, last=last, clinic_id=None
            ),
        )
    ]
    changes = fetch(
        ScheduleChange,
        *queries.changes_sql(doctor_ids=[doctor_id], first=first, last=last, clinic_id=None),
    )
    windows = working_windows(
        days=days_between(first, last),
        doctor_ids=[doctor_id],
        rules=rules,
        changes=changes,
        stand_ins=stand_ins,
    )
    hours: dict[tuple[int, datetime.date], list[tuple[datetime.time, datetime.time]]] = {}
    for (_doctor, clinic_id, day), day_windows in windows.items():
        spans = sorted((w.start, w.end) for w in day_windows if w.end > w.start)
        if spans:
            hours[(clinic_id, day)] = [(_as_time(lo), _as_time(hi)) for lo, hi in spans]
    return hours


def _as_time(minutes: int) -> datetime.time:
    """Wall-clock minutes of a day as a time (24:00, a window to midnight, as 23:59)."""
    minutes = min(minutes, 24 * 60 - 1)
    return datetime.time(minutes // 60, minutes % 60)
