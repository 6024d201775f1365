"""Which column of an export holds which field: guessed from the headers, in Russian or
English, and editable before the run."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.errors import ImportFileInvalid

# The fields a column may feed, in the order the mapping form lists them.
FIELDS = {
    "full_name": _("Full name (surname first)"),
    "last_name": _("Last name"),
    "first_name": _("First name"),
    "middle_name": _("Middle name"),
    "birth_date": _("Date of birth"),
    "sex": _("Sex"),
    "phone": _("Phone"),
    "email": _("E-mail"),
    "address": _("Address"),
    "id_document_number": _("Passport or document number"),
    "snils": _("SNILS"),
    "oms_policy": _("OMS policy"),
    "notes": _("Notes"),
    "visit_at": _("Visit date (and time)"),
    "visit_time": _("Visit time"),
    "visit_doctor": _("Visit: doctor"),
    "visit_service": _("Visit: service"),
}
SKIP = ""
SKIP_LABEL = pgettext_lazy("import column", "Do not import")

# Header words per field, lower-case, without punctuation. The longest match wins, so
# "дата рождения" beats "дата".
_SYNONYMS = {
    "full_name": ["фио", "ф и о", "пациент", "full name", "patient", "patient name", "name"],
    "last_name": ["фамилия", "last name", "surname", "family name", "lastname"],
    "first_name": ["имя", "first name", "given name", "firstname"],
    "middle_name": ["отчество", "middle name", "patronymic", "middlename"],
    "birth_date": [
        "дата рождения",
        "др",
        "д р",
        "рождения",
        "birth date",
        "date of birth",
        "birthdate",
        "dob",
        "birthday",
    ],
    "sex": ["пол", "sex", "gender"],
    "phone": ["телефон", "тел", "мобильный", "моб телефон", "phone", "mobile", "tel", "cell"],
    "email": ["email", "e mail", "почта", "эл почта", "электронная почта", "mail"],
    "address": ["адрес", "address", "адрес проживания"],
    "id_document_number": [
        "паспорт",
        "документ",
        "номер документа",
        "серия и номер паспорта",
        "passport",
        "document",
        "document number",
    ],
    "snils": ["снилс", "snils"],
    "oms_policy": ["полис омс", "омс", "полис", "oms", "oms policy"],
    "notes": ["примечание", "комментарий", "заметки", "notes", "note", "comment", "comments"],
    "visit_at": [
        "дата визита",
        "дата приема",
        "дата приёма",
        "визит",
        "прием",
        "приём",
        "дата посещения",
        "visit",
        "visit date",
        "visit datetime",
        "appointment date",
    ],
    "visit_time": ["время", "время приема", "время приёма", "время визита", "visit time", "time"],
    "visit_doctor": ["врач", "доктор", "специалист", "doctor", "physician"],
    "visit_service": ["услуга", "услуги", "service", "procedure", "процедура"],
}
_PUNCTUATION = re.compile(r"[^\w]+")


def _words(header: str) -> str:
    return _PUNCTUATION.sub(" ", header.casefold().replace("ё", "е")).strip()


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """{column index as text: field} for the headers we recognise; each field used once."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        words = _words(header)
        best, best_len = SKIP, 0
        for field, synonyms in _SYNONYMS.items():
            if field in used:
                continue
            for synonym in synonyms:
                synonym = _words(synonym)
                if (words == synonym or words.startswith(synonym + " ")) and len(
                    synonym
                ) > best_len:
                    best, best_len = field, len(synonym)
        if best:
            mapping[str(index)] = best
            used.add(best)
    return mapping


def mapping_clean(raw: dict[str, str], *, columns: int) -> dict[str, str]:
    """A mapping from the form: known fields, real columns, each field once, and enough to
    name a person (a full name, or last and first names)."""
    mapping: dict[str, str] = {}
    for key, field in raw.items():
        if field == SKIP:
            continue
        if field not in FIELDS or not key.isdigit() or int(key) >= columns:
            raise ImportFileInvalid(_("Choose a field from the list for every column."))
        if field in mapping.values():
            raise ImportFileInvalid(
                _("Two columns are mapped to “%(field)s”: choose one.") % {"field": FIELDS[field]}
            )
        mapping[key] = field
    fields = set(mapping.values())
    if "full_name" not in fields and not {"last_name", "first_name"} <= fields:
        raise ImportFileInvalid(
            _("Map a column to the full name, or columns to the last and first names.")
        )
    if "full_name" in fields and fields & {"last_name", "first_name", "middle_name"}:
        raise ImportFileInvalid(
            _("Map either the full name or its parts (last, first, middle name), not both.")
        )
    if fields & {"visit_time", "visit_doctor", "visit_service"} and "visit_at" not in fields:
        raise ImportFileInvalid(_("Map a column to the visit date to import visits."))
    return mapping
