"""Dates and times in a patient's words, relative to `now` in the clinic's time zone.

Own rules first ("завтра после обеда", "в пятницу к 10", "next Tuesday morning", "на следующей
неделе", "5 декабря", "12.12"): they cover what patients write and take microseconds.
`dateparser` (about a millisecond a call) reads only the date-bearing fragment the rules found
but could not resolve ("5-го дек.", "Dec 5th"), with an explicit language and base date.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import lru_cache

import dateparser  # type: ignore[import-untyped]

WEEKDAYS = {
    "понедельник": 0,
    "вторник": 1,
    "среда": 2,
    "среду": 2,
    "четверг": 3,
    "пятница": 4,
    "пятницу": 4,
    "суббота": 5,
    "субботу": 5,
    "воскресенье": 6,
    "пн": 0,
    "вт": 1,
    "ср": 2,
    "чт": 3,
    "пт": 4,
    "сб": 5,
    "вс": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
MONTHS = {
    "январ": 1,
    "феврал": 2,
    "март": 3,
    "апрел": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "август": 8,
    "сентябр": 9,
    "октябр": 10,
    "ноябр": 11,
    "декабр": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
T = datetime.time
# Parts of the day as the clinic's hours read them.
DAY_PARTS = (
    (r"с утра|утром|утра\b|утро\b|morning", T(8), T(12)),
    (r"до обеда|before lunch|before noon", T(8), T(13)),
    (r"после обеда|after lunch|afternoon|днём|днем|дн[её]м", T(13), T(18)),
    (r"в обед|обед|at lunch|lunchtime|midday|noon", T(12), T(14)),
    (r"вечером|вечер|evening|tonight|после работы|after work", T(17), T(21)),
)
WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
MONTH_WORD = (
    r"(?:январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр|"
    r"янв|фев|апр|авг|сен|окт|ноя|дек|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zа-я]*\.?"
)
RE_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:-?(?:го|е|st|nd|rd|th))?\s+(?:of\s+)?({MONTH_WORD})")
RE_MONTH_DAY = re.compile(rf"\b({MONTH_WORD})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
RE_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")
RE_DAY_NUMBER = re.compile(r"\b(\d{1,2})(?:-?го|-?е)?\s+числ[оа]\b")
RE_IN_DAYS = re.compile(
    r"\b(?:через|in)\s+(\d{1,2}|два|две|три|пару|one|two|three|a couple of)?\s*"
    r"(дн[яей]+|день|недел[юиь]|weeks?|days?)"
)
RE_WEEKDAY = re.compile(
    rf"\b(?:(в|во|на|on|this|next|следующ[а-я]+|эт[а-я]+|ближайш[а-я]+)\s+)?"
    rf"(?:(следующ[а-я]+|next|эт[а-я]+|ближайш[а-я]+)\s+)?({WEEKDAY_RE})\b"
)
# "в 10", "к 10:30", "at 3 pm", "15:00", "в 9 утра", "в 3 ночи".
RE_TIME = re.compile(
    r"(?:(?P<prep>в|во|к|на|at|for|around|около|после|after|до|before|by|с|from)\s+)?"
    r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*"
    r"(?P<mer>am|pm|a\.m\.|p\.m\.|утра|ночи|дня|вечера|час[аов]*|o'clock)?(?![\d./])"
)
NUMBER_WORDS = {"два": 2, "две": 2, "три": 3, "пару": 2, "one": 1, "two": 2, "three": 3}


@dataclass(frozen=True)
class When:
    """A date or a range of dates with an optional window of the day; `text` is the words it
    came from. An exact time ("в 10:30") is `time_from == time_to`."""

    date_from: datetime.date | None
    date_to: datetime.date | None
    time_from: datetime.time | None
    time_to: datetime.time | None
    text: str

    def as_dict(self) -> dict:
        def iso(value):
            return value.isoformat() if value is not None else None

        return {
            "date_from": iso(self.date_from),
            "date_to": iso(self.date_to),
            "time_from": iso(self.time_from),
            "time_to": iso(self.time_to),
            "text": self.text,
        }


def _next_weekday(today: datetime.date, weekday: int, *, next_week: bool) -> datetime.date:
    ahead = (weekday - today.weekday()) % 7
    if next_week:
        # "Next Tuesday" / "в следующий вторник": the one in the coming calendar week.
        monday = today + datetime.timedelta(days=7 - today.weekday())
        return monday + datetime.timedelta(days=weekday)
    return today + datetime.timedelta(days=ahead)


def _year_for(today: datetime.date, month: int, day: int) -> datetime.date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


@lru_cache(maxsize=512)
def _dateparser_date(fragment: str, language: str, today: datetime.date) -> datetime.date | None:
    base = datetime.datetime(today.year, today.month, today.day, 0, 0)  # noqa: DTZ001 naive base for dateparser
    parsed = dateparser.parse(
        fragment,
        languages=[language],
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base},
    )
    return parsed.date() if parsed else None


def _numeric_date(match: re.Match, text: str, today: datetime.date, language: str):
    """ "12.12", "05/12/2026"; "в 10.30" is a time and "10.30" has no month 30."""
    first, second, year_s = match.groups()
    before = text[max(0, match.start() - 3) : match.start()]
    if not year_s and re.search(r"\b(?:в|к|во|at|by)\s$", before):
        return None
    day_n, month_n = int(first), int(second)
    if "/" in match.group(0) and language == "en":
        day_n, month_n = month_n, day_n
    if not (1 <= month_n <= 12 and 1 <= day_n <= 31):
        return None
    try:
        if year_s:
            year = int(year_s) + (2000 if len(year_s) == 2 else 0)
            return datetime.date(year, month_n, day_n)
    except ValueError:
        return None
    return _year_for(today, month_n, day_n)


def _dates(text: str, today: datetime.date, language: str):
    """(date_from, date_to, matched words) or None."""
    day: datetime.date | None
    simple = {
        "послезавтра": 2,
        "day after tomorrow": 2,
        "завтра": 1,
        "tomorrow": 1,
        "сегодня": 0,
        "today": 0,
        "tonight": 0,
    }
    for word, days in simple.items():
        if re.search(rf"\b{word}\b", text):
            day = today + datetime.timedelta(days=days)
            return day, day, word
    match = RE_DAY_MONTH.search(text) or RE_MONTH_DAY.search(text)
    if match:
        day_s, month_s = match.groups() if match.re is RE_DAY_MONTH else match.groups()[::-1]
        month = next((n for stem, n in MONTHS.items() if month_s.startswith(stem)), None)
        if month == 5 and month_s.startswith("ма") and not month_s.startswith(("мая", "май")):
            month = None
        day = _year_for(today, month, int(day_s)) if month else None
        if day is None:
            # An abbreviation the stems above do not know: dateparser reads "5 дек".
            day = _dateparser_date(f"{day_s} {month_s.rstrip('.')}", language, today)
        if day:
            return day, day, match.group(0)
    for match in RE_NUMERIC_DATE.finditer(text):
        day = _numeric_date(match, text, today, language)
        if day:
            return day, day, match.group(0)
    match = RE_DAY_NUMBER.search(text)
    if match:
        n = int(match.group(1))
        for months_ahead in (0, 1, 2):
            month = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                day = datetime.date(year, month, n)
            except ValueError:
                continue
            if day >= today:
                return day, day, match.group(0)
    match = RE_WEEKDAY.search(text)
    if match:
        prep, modifier, name = match.groups()
        is_next = any(w and (w.startswith("следующ") or w == "next") for w in (prep, modifier))
        day = _next_weekday(today, WEEKDAYS[name], next_week=is_next)
        return day, day, match.group(0).strip()
    if re.search(r"следующ[а-я]+ недел|next week", text):
        monday = today + datetime.timedelta(days=7 - today.weekday())
        return monday, monday + datetime.timedelta(days=6), "next week"
    if re.search(r"(?:эт[а-я]+|this) недел|this week", text):
        return today, today + datetime.timedelta(days=6 - today.weekday()), "this week"
    if re.search(r"выходн[а-я]+|weekend", text):
        saturday = today + datetime.timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:
            saturday = today
        return (
            saturday,
            saturday + datetime.timedelta(days=1 if saturday.weekday() == 5 else 0),
            ("weekend"),
        )
    match = RE_IN_DAYS.search(text)
    if match:
        count_s, unit = match.groups()
        count = NUMBER_WORDS.get(count_s or "") or (
            int(count_s) if count_s and count_s.isdigit() else 1
        )
        days = count * (7 if unit.startswith(("недел", "week")) else 1)
        day = today + datetime.timedelta(days=days)
        return day, day, match.group(0)
    return None


def _clock(match: re.Match) -> datetime.time | None:
    hour = int(match.group("h"))
    minute = int(match.group("m") or 0)
    meridiem = (match.group("mer") or "").replace(".", "")
    if meridiem in ("pm", "дня", "вечера") and hour < 12:
        hour += 12
    elif meridiem in ("am", "утра", "ночи"):
        hour = 0 if hour == 12 else hour
    elif match.group("m") is None and 1 <= hour <= 7:
        # "в 3" at a clinic means 15:00; "в 3 ночи" / "3am" said so explicitly.
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return datetime.time(hour, minute)


def parse_when(text: str, *, today: datetime.date, language: str) -> When | None:
    """Read a date and/or a time window from lower-cased `text`; None when there is neither."""
    dates = _dates(text, today, language)
    words = [dates[2]] if dates else []
    rest = text.replace(dates[2], " ") if dates else text
    time_from = time_to = None
    for pattern, start, end in DAY_PARTS:
        found = re.search(pattern, rest)
        if found:
            time_from, time_to = start, end
            words.append(found.group(0))
            break
    for match in RE_TIME.finditer(rest):
        prep = match.group("prep")
        has_clock = match.group("m") is not None or match.group("mer")
        if not (prep or has_clock):
            continue
        if prep in ("на", "for") and not has_clock:
            continue  # "на 2 недели", "for 2 people"
        after = rest[match.end() : match.end() + 8]
        if re.match(r"\s*(?:дн|недел|числ|week|day|минут|min|лет|year|человек|рубл)", after):
            continue
        clock = _clock(match)
        if clock is None:
            continue
        if prep in ("после", "after", "с", "from"):
            time_from, time_to = clock, time_to if time_to and time_to > clock else None
        elif prep in ("до", "before", "by"):
            time_to = clock
            time_from = time_from if time_from and time_from < clock else None
        else:
            time_from = time_to = clock
        words.append(match.group(0).strip())
        break
    if not dates and time_from is None and time_to is None:
        return None
    return When(
        date_from=dates[0] if dates else None,
        date_to=dates[1] if dates else None,
        time_from=time_from,
        time_to=time_to,
        text=" ".join(words),
    )
