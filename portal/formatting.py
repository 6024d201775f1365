"""Dates and times as people read them, in the active language.

English dates are written so no reader can take the day for the month ("Tue 7 Dec 2026");
Russian dates use the genitive month ("вт, 7 декабря 2026"). A time says its zone whenever the
zone is not the reader's own ("14:00, Irkutsk time (UTC+8)").
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

# Django date-format strings: (day with weekday and year, short day without the year).
_DAY_FORMATS = {
    "ru": ("D, j E Y", "D, j E"),
    "en": ("D j M Y", "D j M"),
}


def _formats() -> tuple[str, str]:
    language = (translation.get_language() or "ru").split("-")[0]
    return _DAY_FORMATS.get(language, _DAY_FORMATS["en"])


def day_label(day: datetime.date, *, with_year: bool = True) -> str:
    """'Tue 7 Dec 2026' / 'Вт, 7 декабря 2026' (without the year: 'Tue 7 Dec')."""
    long_format, short_format = _formats()
    return formats.date_format(day, long_format if with_year else short_format)


def month_day_label(day: datetime.date) -> str:
    """'7 Dec' / '7 декабря': a day of a short period, as on a chart's axis."""
    language = (translation.get_language() or "ru").split("-")[0]
    return formats.date_format(day, "j E" if language == "ru" else "j M")


def time_label(moment: datetime.datetime) -> str:
    """The wall-clock time of an aware datetime in its own zone: '09:30'."""
    return moment.strftime("%H:%M")


def utc_offset_label(moment: datetime.datetime) -> str:
    """'UTC+8', 'UTC+5:30', 'UTC−3' for an aware datetime."""
    offset = moment.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def is_readers_zone(zone: datetime.tzinfo, moment: datetime.datetime) -> bool:
    """Whether the reader's active zone shows `moment` at the same wall-clock time."""
    reader = timezone.get_current_timezone()
    return moment.astimezone(reader).utcoffset() == moment.astimezone(zone).utcoffset()


def when_label(moment: datetime.datetime, zone: zoneinfo.ZoneInfo, *, city: str = "") -> str:
    """A moment in a clinic's zone: '7 Dec 2026, 14:00' and, when that is not the reader's
    zone, the city's time and offset: '…, 14:00 (Irkutsk time, UTC+8)'."""
    local = moment.astimezone(zone)
    text = f"{day_label(local.date())}, {time_label(local)}"
    if is_readers_zone(zone, moment):
        return text
    return zone_note(text, local, city=city)


def zone_label(
    zone: zoneinfo.ZoneInfo, *, city: str = "", at: datetime.datetime | None = None
) -> str:
    """A clinic's zone as people name it, with its offset at `at` (now by default):
    'Irkutsk time, UTC+8', or 'UTC+8' without a city. The zone's id stays for machines."""
    offset = utc_offset_label((at or timezone.now()).astimezone(zone))
    if city:
        return _("%(city)s time, %(zone)s") % {"city": city, "zone": offset}
    return offset


def zone_note(text: str, local: datetime.datetime, *, city: str = "") -> str:
    """`text` (a date and time written out) followed by the zone of `local`, an aware datetime
    in that zone: '… (Irkutsk time, UTC+8)', or '… (UTC+8)' without a city."""
    if city:
        return _("%(when)s (%(city)s time, %(offset)s)") % {
            "when": text,
            "city": city,
            "offset": utc_offset_label(local),
        }
    return f"{text} ({utc_offset_label(local)})"
