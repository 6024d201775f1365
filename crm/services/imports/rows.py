"""One row of an export, normalised into profile fields and an optional past visit.

Phones go to E.164 (region from PHONE_DEFAULT_REGION), names are trimmed and, when typed all
upper- or lower-case, put in title case; dates are read in the common formats; e-mails are
case-folded. Validation is the profile's own (`clean_patient_fields`), so an imported profile
holds nothing a form would refuse. A bad row becomes a `RowError`: a field and a code, never
the value.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.services.imports.reading import Cell
from portal.choices import IdDocumentType, Sex
from portal.services.patients import clean_patient_fields

DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%Y.%m.%d")
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%H.%M")
_SEX = {
    "м": Sex.MALE,
    "муж": Sex.MALE,
    "мужской": Sex.MALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "ж": Sex.FEMALE,
    "жен": Sex.FEMALE,
    "женский": Sex.FEMALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
}
_PROFILE_TEXT = ("phone", "email", "address", "id_document_number", "snils", "oms_policy", "notes")
_NAMES = ("last_name", "first_name", "middle_name")

# Why a row was skipped, by code; shown with the column's field name.
REASONS = {
    "required": _("a value is required"),
    "invalid": _("the value is not valid"),
    "invalid_date": _("not a date (use DD.MM.YYYY or YYYY-MM-DD)"),
    "invalid_time": _("not a time (use HH:MM)"),
    "invalid_choice": _("not one of the allowed values"),
    "max_length": _("the value is too long"),
    "future_visit": _("the visit is in the future: only past visits are imported"),
    "future": _("the date is in the future"),
}


@dataclass
class VisitData:
    visited_at: datetime.datetime
    doctor_name: str = ""
    service_name: str = ""


@dataclass
class ParsedRow:
    number: int
    fields: dict[str, object]
    visit: VisitData | None = None


@dataclass
class RowError:
    number: int
    field: str
    code: str


def parse_row(
    number: int, cells: list[Cell], mapping: dict[str, str], tz: zoneinfo.ZoneInfo
) -> ParsedRow | RowError:
    raw = {name: cells[int(index)] for index, name in mapping.items() if int(index) < len(cells)}
    data: dict[str, object] = {}
    if "full_name" in raw:
        parts = _text(raw["full_name"]).split()
        for name, value in zip(_NAMES, [*parts[:2], " ".join(parts[2:])], strict=False):
            data[name] = value
    for name in _NAMES:
        if name in raw:
            data[name] = _text(raw[name])
    for name in _NAMES:
        if name in data:
            data[name] = _cased(str(data[name]))
    if _text(raw.get("birth_date")):
        birth = _date(raw["birth_date"])
        if birth is None:
            return RowError(number, "birth_date", "invalid_date")
        data["birth_date"] = birth
    if _text(raw.get("sex")):
        sex = _SEX.get(_text(raw["sex"]).casefold().rstrip("."))
        if sex is None:
            return RowError(number, "sex", "invalid_choice")
        data["sex"] = sex
    for name in _PROFILE_TEXT:
        value = _text(raw.get(name))
        if value:
            data[name] = value
    if data.get("id_document_number"):
        data["id_document_type"] = IdDocumentType.PASSPORT_RU
    try:
        cleaned = clean_patient_fields(data)
    except ValidationError as exc:
        name, errors = next(iter(exc.error_dict.items()))
        code = errors[0].code if errors[0].code in REASONS else "invalid"
        return RowError(number, name, code)
    visit = None
    if _text(raw.get("visit_at")):
        visit_or_error = _visit(number, raw, tz)
        if isinstance(visit_or_error, RowError):
            return visit_or_error
        visit = visit_or_error
    return ParsedRow(number=number, fields=cleaned, visit=visit)


def _visit(number: int, raw: dict[str, Cell], tz: zoneinfo.ZoneInfo) -> VisitData | RowError:
    when = _datetime(raw["visit_at"])
    if when is None:
        return RowError(number, "visit_at", "invalid_date")
    if _text(raw.get("visit_time")):
        time = _time(raw["visit_time"])
        if time is None:
            return RowError(number, "visit_time", "invalid_time")
        when = datetime.datetime.combine(when.date(), time)
    # The export's times are the clinic's wall-clock times.
    visited_at = timezone.make_aware(when, tz)
    if visited_at > timezone.now():
        return RowError(number, "visit_at", "future_visit")
    doctor = _text(raw.get("visit_doctor"))[:200]
    service = _text(raw.get("visit_service"))[:300]
    return VisitData(visited_at=visited_at, doctor_name=doctor, service_name=service)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime | datetime.date):
        return cell.isoformat()
    return str(cell).strip()


def _cased(name: str) -> str:
    """ "ИВАНОВ" and "иванов" become "Иванов"; a name typed in mixed case ("McDonald",
    "де Голль") is kept as typed."""
    if name.isupper() or name.islower():
        return name.title()
    return name


def _date(cell: Cell) -> datetime.date | None:
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    text = _text(cell).split(" ")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def _datetime(cell: Cell) -> datetime.datetime | None:
    if isinstance(cell, datetime.datetime):
        return cell.replace(tzinfo=None)
    if isinstance(cell, datetime.date):
        return datetime.datetime.combine(cell, datetime.time())
    text = _text(cell).replace("T", " ")
    date_part, _sep, time_part = text.partition(" ")
    day = _date(date_part)
    if day is None:
        return None
    time = datetime.time()
    if time_part.strip():
        parsed = _time(time_part.strip())
        if parsed is None:
            return None
        time = parsed
    return datetime.datetime.combine(day, time)


def _time(cell: Cell) -> datetime.time | None:
    if isinstance(cell, datetime.datetime):
        return cell.time()
    text = _text(cell)
    for fmt in TIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).time()  # noqa: DTZ007 - a time only
        except ValueError:
            continue
    return None
