"""Bounds that every date and time taken from a request must keep.

Python's dates end at years 1 and 9999 and accept UTC offsets up to ±23:59, so a value at an
end of the calendar overflows the first time a view adds a day or converts it to UTC, and a
made-up offset reaches the database. Every parser of dates from the outside (API fields, FHIR
search parameters, HTML forms) checks these bounds and answers 400 or a form error instead.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A full year short of either end of `datetime.date`: room for any range arithmetic.
EARLIEST_DATE = datetime.date(2, 1, 1)
LATEST_DATE = datetime.date(9998, 12, 31)
# The widest offset any real zone has used (Line Islands, +14:00; −12:00 the other way).
MAX_UTC_OFFSET = datetime.timedelta(hours=14)

OUT_OF_RANGE = _("This date is out of range.")
BAD_OFFSET = _("The UTC offset must be between -14:00 and +14:00.")


def date_in_range(value: datetime.date) -> bool:
    day = value.date() if isinstance(value, datetime.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def offset_in_range(value: datetime.datetime) -> bool:
    offset = value.utcoffset()
    return offset is None or abs(offset) <= MAX_UTC_OFFSET


def validate_date_in_range(value: datetime.date) -> None:
    """A Django validator (forms, models) for dates and datetimes."""
    if not date_in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="date_out_of_range")
    if isinstance(value, datetime.datetime) and not offset_in_range(value):
        raise ValidationError(BAD_OFFSET, code="offset_out_of_range")
