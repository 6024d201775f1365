"""Scoring `understand()` on the scripted dialogues, without a database.

The vocabulary is the demo catalogue (`demo_network.CATALOGUE`), the demo clinics and a fixed
set of doctors, numbered in order; dialogues name entities by slug, code, surname or clinic
slug, and `entity_ids()` turns those into the ids `understand()` returns. The benchmark calls
`intent_accuracy()` (key `assistant_intent_accuracy`).
"""

from __future__ import annotations

import datetime
import zoneinfo

from crm.assistant.understanding import Understanding, understand
from crm.assistant.vocabulary import ClinicRow, DoctorRow, ServiceRow, SpecialtyRow, Vocabulary
from scheduling.demo_network import CATALOGUE
from tests.crm.assistant.dialogues import DIALOGUES, NOW, TZ

DOCTORS = (
    ("Иванова", "Анна", "Сергеевна"),
    ("Иванов", "Пётр", "Ильич"),
    ("Смирнов", "Олег", "Петрович"),
    ("Кузнецова", "Мария", "Игоревна"),
    ("Соколов", "Дмитрий", "Андреевич"),
    ("Белозерская", "Елена", "Викторовна"),
)
CLINICS = (
    ("irkutsk-centre", "Медфронт на Карла Маркса", "Иркутск", "ул. Карла Маркса, 15"),
    ("irkutsk-levoberezhny", "Медфронт Левобережный", "Иркутск", "ул. Рабочего Штаба, 3"),
    ("moscow-arbat", "Медфронт на Арбате", "Москва", "ул. Арбат, 20"),
)


def demo_vocabulary() -> tuple[Vocabulary, dict[str, dict[str, int]]]:
    """The vocabulary and the ids by name: {"specialty": {slug: id}, "service": {code: id}, ...}."""
    ids: dict[str, dict[str, int]] = {"specialty": {}, "service": {}, "doctor": {}, "clinic": {}}
    specialties, services = [], []
    for slug, name, rows in CATALOGUE:
        pk = len(specialties) + 1
        specialties.append(SpecialtyRow(id=pk, slug=slug, name=name))
        ids["specialty"][slug] = pk
        for code, service_name, *_ in rows:
            services.append(
                ServiceRow(id=len(services) + 1, code=code, name=service_name, specialty_id=pk)
            )
            ids["service"][code] = len(services)
    specialties.append(SpecialtyRow(id=len(specialties) + 1, slug="dentist", name="Стоматолог"))
    ids["specialty"]["dentist"] = len(specialties)
    doctors = []
    for index, (last, first, middle) in enumerate(DOCTORS, start=1):
        doctors.append(DoctorRow(id=index, last_name=last, first_name=first, middle_name=middle))
        ids["doctor"][last] = index
    clinics = []
    for index, (slug, name, city, address) in enumerate(CLINICS, start=1):
        clinics.append(ClinicRow(id=index, name=name, city=city, address=address))
        ids["clinic"][slug] = index
    vocabulary = Vocabulary.build(
        version="test", specialties=specialties, services=services, doctors=doctors, clinics=clinics
    )
    return vocabulary, ids


def read(text: str, vocabulary: Vocabulary, *, language: str | None = None) -> Understanding:
    return understand(
        text, language=language, vocabulary=vocabulary, now=NOW, tz=zoneinfo.ZoneInfo(TZ)
    )


def evaluate() -> tuple[float, list[tuple[str, str, str]], int]:
    """(accuracy, misses as (text, expected, got), turns)."""
    vocabulary, _ = demo_vocabulary()
    turns = [turn for dialogue in DIALOGUES for turn in dialogue]
    misses = []
    for turn in turns:
        got = read(turn["text"], vocabulary).intent
        if got != turn["intent"]:
            misses.append((turn["text"], turn["intent"], got))
    return 1 - len(misses) / len(turns), misses, len(turns)


def intent_accuracy() -> float:
    """Share of scripted turns whose intent `understand()` gets right (0..1)."""
    return evaluate()[0]


def today() -> datetime.date:
    return NOW.astimezone(zoneinfo.ZoneInfo(TZ)).date()
