"""The `?date=` of the staff and booking pages: a day within the calendar the pages can show.

A date Python reads but the pages cannot page around (a month after 9999-12-01, a week
before year 1) is refused like a malformed one, with a message, so no view ever steps a
`datetime.date` past its range.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal.input_limits import EARLIEST_DATE, LATEST_DATE


def asked_day(request: HttpRequest, value: str | None, *, today: datetime.date) -> datetime.date:
    """The `YYYY-MM-DD` in `value`; `today` when absent or malformed, and also (saying so)
    when it lies beyond the calendar the pages show."""
    try:
        day = datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return today
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        messages.warning(request, _("That date is outside the calendar, so today is shown."))
        return today
    return day
