"""PLACEHOLDER (issue #18): a deliberately small keyword reader of patients' messages.

The language-understanding branch replaces this module at merge (morphology, dateparser,
fuzzy matching of the catalogue). Only the names below are the contract: `INTENTS`, `When`,
`Understanding` and `understand()`. This version knows a few clear phrasings in Russian and
English so the conversation engine runs and can be tested now.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, time
from zoneinfo import ZoneInfo

from crm.selectors.assistant_vocabulary import Vocabulary

INTENTS = (
    "book",
    "reschedule",
    "cancel",
    "my_visits",
    "doctor_info",
    "price",
    "preparation",
    "directions",
    "callback",
    "handoff",
    "emergency",
    "smalltalk",
    "unknown",
)


@dataclass(frozen=True)
class When:
    date_from: date | None
    date_to: date | None
    time_from: time | None
    time_to: time | None
    text: str


@dataclass(frozen=True)
class Understanding:
    intent: str
    confidence: float
    language: str  # "ru" | "en"
    specialty_ids: tuple[int, ...] = ()
    service_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()
    clinic_ids: tuple[int, ...] = ()
    city: str | None = None
    when: When | None = None
    for_whom: str | None = None  # "self" or a FamilyRelation value ("child", "spouse", "parent")
    answer: str | None = None  # "yes" | "no"
    choice: int | None = None  # 1-based pick among offered options
    choice_time: time | None = None
    phone: str | None = None  # E.164

    def entities(self) -> dict:
        data = asdict(self)
        data.pop("phone")  # personal data: never in the stored entities
        if self.when is not None:
            data["when"] = {
                k: (None if v is None else str(v)) for k, v in asdict(self.when).items()
            }
        if self.choice_time is not None:
            data["choice_time"] = self.choice_time.isoformat(timespec="minutes")
        for key in ("specialty_ids", "service_ids", "doctor_ids", "clinic_ids"):
            data[key] = list(data[key])
        return data


# Order matters: the first group whose keyword occurs wins.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "emergency",
        (
            "скорая",
            "скорую",
            "не могу дышать",
            "боль в груди",
            "кровотечен",
            "без сознания",
            "инсульт",
            "инфаркт",
            "emergency",
            "chest pain",
            "can't breathe",
            "cannot breathe",
            "bleeding",
            "unconscious",
            "stroke",
        ),
    ),
    (
        "handoff",
        (
            "оператор",
            "живой человек",
            "с человеком",
            "администратор",
            "жалоб",
            "безобраз",
            "ужасн",
            "отвратител",
            "operator",
            "human",
            "real person",
            "talk to a person",
            "agent",
            "complaint",
            "terrible",
            "awful",
        ),
    ),
    ("cancel", ("отмен", "cancel")),
    ("reschedule", ("перенес", "перенос", "перезапис", "reschedule", "move my")),
    ("my_visits", ("мои записи", "мои визиты", "куда я записан", "my visits", "my appointments")),
    ("callback", ("перезвон", "позвоните мне", "call me back", "callback", "call back")),
    ("preparation", ("подготов", "натощак", "prepare", "preparation")),
    ("price", ("сколько стоит", "стоимост", "цена", "цены", "прайс", "how much", "price", "cost")),
    (
        "directions",
        (
            "адрес",
            "как добраться",
            "как проехать",
            "часы работы",
            "где наход",
            "address",
            "directions",
            "opening hours",
            "where are you",
        ),
    ),
    (
        "doctor_info",
        (
            "какой врач",
            "какой доктор",
            "кто лечит",
            "к кому обратиться",
            "which doctor",
            "who treats",
        ),
    ),
    (
        "book",
        ("запиш", "записать", "записаться", "запись", "приём", "прием", "book", "appointment"),
    ),
    (
        "smalltalk",
        (
            "привет",
            "как дела",
            "анекдот",
            "погод",
            "спасибо",
            "hello",
            "hi ",
            "how are you",
            "joke",
            "weather",
            "thank",
        ),
    ),
)
_YES = {
    "да",
    "ага",
    "верно",
    "подтверждаю",
    "давайте",
    "yes",
    "yep",
    "sure",
    "confirm",
    "ok",
    "ок",
    "okay",
}
_NO = {"нет", "не надо", "no", "nope"}
_ORDINALS = {
    "перв": 1,
    "втор": 2,
    "трет": 3,
    "четв": 4,
    "пят": 5,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}
_RELATIONS = {
    "сын": "child",
    "доч": "child",
    "ребен": "child",
    "ребён": "child",
    "son": "child",
    "daughter": "child",
    "child": "child",
    "муж": "spouse",
    "жен": "spouse",
    "husband": "spouse",
    "wife": "spouse",
    "мам": "parent",
    "пап": "parent",
    "мать": "parent",
    "отц": "parent",
    "mother": "parent",
    "father": "parent",
    "mum": "parent",
    "mom": "parent",
}
_PARTS_OF_DAY = (
    (("утр", "morning"), time(8), time(12)),
    (("после обеда", "днём", "днем", "afternoon"), time(12), time(17)),
    (("вечер", "evening"), time(17), time(21)),
)
_WEEKDAYS = (
    ("понедельник", "monday"),
    ("вторник", "tuesday"),
    ("сред", "wednesday"),
    ("четверг", "thursday"),
    ("пятниц", "friday"),
    ("суббот", "saturday"),
    ("воскресен", "sunday"),
)
_PHONE = re.compile(r"(?:\+7|8|\+1)[\s\-()]*\d(?:[\s\-()]*\d){9}")
_CLOCK = re.compile(r"\b(?:в|at|к)\s*(\d{1,2})(?::(\d{2}))?\b")


def _stem(word: str) -> str:
    return word.lower()[: max(4, len(word) - 2)]


def _names(text: str, entries) -> tuple[int, ...]:
    words = re.findall(r"\w+", text)
    found = []
    for entry in entries:
        stems = [_stem(w) for w in re.findall(r"\w+", entry[1]) if len(w) > 3]
        if stems and all(any(w.startswith(s) for w in words) for s in stems):
            found.append(entry[0])
    return tuple(found)


def _when(text: str, *, today: date) -> When | None:
    day = None
    if "послезавтра" in text or "day after tomorrow" in text:
        day = today + datetime.timedelta(days=2)
    elif "завтра" in text or "tomorrow" in text:
        day = today + datetime.timedelta(days=1)
    elif "сегодня" in text or "today" in text:
        day = today
    else:
        for index, names in enumerate(_WEEKDAYS):
            if any(name in text for name in names):
                day = today + datetime.timedelta(days=(index - today.weekday()) % 7 or 7)
                break
    time_from = time_to = None
    for words, start, end in _PARTS_OF_DAY:
        if any(word in text for word in words):
            time_from, time_to = start, end
            break
    if day is None and time_from is None:
        return None
    return When(date_from=day, date_to=day, time_from=time_from, time_to=time_to, text=text)


def _phone(text: str) -> str | None:
    match = _PHONE.search(text)
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group())
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return "+" + digits


def understand(
    text: str, *, language: str | None, vocabulary: Vocabulary, now: datetime.datetime, tz: ZoneInfo
) -> Understanding:
    lowered = " ".join((text or "").lower().split())
    if language not in ("ru", "en"):
        language = "ru" if re.search("[а-яё]", lowered) else "en"
    bare = lowered.strip(" .!?,")
    intent, confidence = "unknown", 0.2
    for name, keywords in _KEYWORDS:
        if any(keyword in f" {lowered} " for keyword in keywords):
            intent, confidence = name, 0.9
            break
    answer = "yes" if bare in _YES else "no" if bare in _NO else None
    choice = None
    if bare.isdigit() and 0 < int(bare) < 10:
        choice = int(bare)
    else:
        for prefix, number in _ORDINALS.items():
            if re.search(
                rf"\b{prefix}(?:ый|ой|ий|ая|ое|ую|ого|ье|ья|ьего|ёрт\w*|ерт\w*)?\b", bare
            ) and (len(bare.split()) <= 3):
                choice = number
                break
    clock = _CLOCK.search(lowered)
    choice_time = None
    if clock and int(clock.group(1)) < 24 and int(clock.group(2) or 0) < 60:
        choice_time = time(int(clock.group(1)), int(clock.group(2) or 0))
    for_whom = None
    match = re.search(r"\b(?:для|for my|for)\s+(\w+)", lowered)
    if match:
        for prefix, relation in _RELATIONS.items():
            if match.group(1).startswith(prefix):
                for_whom = relation
                break
    understanding = Understanding(
        intent=intent,
        confidence=confidence,
        language=language,
        specialty_ids=_names(lowered, vocabulary.specialties),
        service_ids=_names(lowered, vocabulary.services),
        doctor_ids=_names(lowered, vocabulary.doctors),
        clinic_ids=_names(lowered, [(c[0], c[1]) for c in vocabulary.clinics]),
        when=_when(lowered, today=now.astimezone(tz).date()),
        for_whom=for_whom,
        answer=answer,
        choice=choice,
        choice_time=choice_time,
        phone=_phone(text or ""),
    )
    found = (
        answer
        or choice
        or choice_time
        or for_whom
        or understanding.when
        or understanding.specialty_ids
        or understanding.service_ids
        or understanding.phone
    )
    if found and intent == "unknown":
        # A bare answer, a date or a name carries on the dialogue: it is understood.
        return replace(understanding, confidence=0.9)
    return understanding
