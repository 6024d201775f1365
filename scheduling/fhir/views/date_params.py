"""FHIR date search parameters (`start=ge2026-03-01`, `date=lt2026-03-02T10:00:00+03:00`).

A bound is (value, inclusive, is_datetime): a date is a day in the clinic's own zone, a
datetime an instant. Searches narrow in the database a little wider than the bounds, then
test each start exactly with `within`.
"""

from __future__ import annotations

import datetime
import re

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import input_limits
from scheduling.fhir.views.base import bad_param

# Days of free slots a search without an upper bound answers.
DEFAULT_SLOT_DAYS = 7
_DATE_PARAM = re.compile(r"^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})(T.+)?$")
_ONE_DAY = datetime.timedelta(days=1)


def _parse_value(date_text: str, time_text: str | None, name: str):
    value: datetime.date
    try:
        if time_text:
            value = datetime.datetime.fromisoformat(date_text + time_text.replace("Z", "+00:00"))
        else:
            value = datetime.date.fromisoformat(date_text)
    except ValueError as exc:
        raise bad_param(name, _("This is not a valid date.")) from exc
    # Bounds are widened by days and converted to UTC: the calendar's ends would overflow.
    if not input_limits.date_in_range(value):
        raise bad_param(name, input_limits.OUT_OF_RANGE)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise bad_param(name, _("Give times with their UTC offset."))
        if not input_limits.offset_in_range(value):
            raise bad_param(name, input_limits.BAD_OFFSET)
    return value


def parse_date_params(values: list[str], name: str):
    """FHIR date search values → (lower, upper) bounds, each (value, inclusive, is_datetime)."""
    lower = upper = None
    for raw in values:
        match = _DATE_PARAM.match(raw.strip())
        if not match:
            raise bad_param(name, _("Use e.g. %(name)s=ge2026-03-01.") % {"name": name})
        prefix, date_text, time_text = match.group(1) or "eq", match.group(2), match.group(3)
        value = _parse_value(date_text, time_text, name)
        is_dt = time_text is not None
        if prefix in ("ge", "gt", "eq"):
            lower = (value, prefix != "gt", is_dt)
        if prefix in ("le", "lt", "eq"):
            upper = (value, prefix != "lt", is_dt)
    return lower, upper


def local_date_bounds(lower, upper) -> tuple[datetime.date, datetime.date]:
    """Clinic-local dates to ask the engine for; datetime bounds widen by a day for zones."""
    if lower is None:
        first = timezone.now().date()
    elif lower[2]:
        first = lower[0].astimezone(datetime.UTC).date() - _ONE_DAY
    else:
        first = lower[0] if lower[1] else lower[0] + _ONE_DAY
    if upper is None:
        last = first + datetime.timedelta(days=DEFAULT_SLOT_DAYS - 1)
    elif upper[2]:
        last = upper[0].astimezone(datetime.UTC).date() + _ONE_DAY
    else:
        last = upper[0] if upper[1] else upper[0] - _ONE_DAY
    return first, last


def utc_superset(lower, upper) -> Q:
    """Start times that may meet the bounds: exact for datetime bounds, a day wider either way
    for local dates (no clinic's zone is a day away from UTC)."""
    condition = Q()
    if lower is not None:
        value, _inclusive, is_dt = lower
        if not is_dt:
            value = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC)
            value -= _ONE_DAY
        condition &= Q(starts_at__gte=value)
    if upper is not None:
        value, _inclusive, is_dt = upper
        if not is_dt:
            value = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC)
            value += 2 * _ONE_DAY
        condition &= Q(starts_at__lte=value)
    return condition


def within(start: datetime.datetime, lower, upper) -> bool:
    for bound, is_lower in ((lower, True), (upper, False)):
        if bound is None:
            continue
        value, inclusive, is_dt = bound
        subject = start if is_dt else start.date()
        if is_lower and (subject < value or (subject == value and not inclusive)):
            return False
        if not is_lower and (subject > value or (subject == value and not inclusive)):
            return False
    return True
