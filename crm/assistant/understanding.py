"""What a patient's message means: an intent and the entities the conversation engine needs.

Rules over lemmas, not a model: every cue is a lemma sequence from `lexicon`, misspelt words
are first corrected towards the vocabulary (rapidfuzz), and the catalogue's names come from the
`Vocabulary`. An emergency wins over everything; a message with only a slot in it ("да",
"второй", "в 10:30", "завтра") is a follow-up (`intent="unknown"`, `followup=True`) for the
engine to apply to the question it asked. Nothing here touches the database or logs the text.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from crm.assistant import lexicon
from crm.assistant.text import detect_language, is_surname_like, lemma, lemmas, normalize, tokens
from crm.assistant.vocabulary import MAX_PHRASE, Vocabulary
from crm.assistant.when import When, parse_when

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
MAX_TEXT = 1000
SURNAME_CUES = frozenset(
    (
        *("к", "ко", "у", "с", "со", "от", "доктор", "доктора", "доктору"),
        *("врач", "врача", "врачу", "dr", "doctor", "with"),
    )
)
__all__ = ["INTENTS", "Understanding", "When", "understand"]


@dataclass(frozen=True)
class Understanding:
    """The reading of one message. `followup` is set when the message carries no intent of its
    own but fills a slot of the engine's last question (an answer, a choice, a time)."""

    intent: str
    confidence: float
    language: str
    specialty_ids: tuple[int, ...] = ()
    service_ids: tuple[int, ...] = ()
    doctor_ids: tuple[int, ...] = ()
    clinic_ids: tuple[int, ...] = ()
    city: str | None = None
    when: When | None = None
    for_whom: str | None = None
    answer: str | None = None
    choice: int | None = None
    choice_time: datetime.time | None = None
    phone: str | None = None
    followup: bool = False
    unhappy: bool = False

    def entities(self) -> dict:
        """JSON-safe entities for the API; the phone is reported only as present or not."""
        result: dict = {}
        for name in ("specialty_ids", "service_ids", "doctor_ids", "clinic_ids"):
            if getattr(self, name):
                result[name] = list(getattr(self, name))
        for name in ("city", "for_whom", "answer", "choice"):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name)
        if self.when is not None:
            result["when"] = self.when.as_dict()
        if self.choice_time is not None:
            result["choice_time"] = self.choice_time.isoformat(timespec="minutes")
        if self.phone is not None:
            result["phone_given"] = True
        if self.unhappy:
            result["unhappy"] = True
        return result


def _cue(phrase: str) -> str:
    return " " + " ".join(lemmas(phrase)) + " "


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, ...], dict[str, tuple[tuple[str, float], ...]]]:
    """Lexicon phrases as padded lemma strings, built once per process."""
    emergency = tuple(_cue(p) for p in lexicon.EMERGENCY)
    intents = {
        intent: tuple((_cue(p), w) for p, w in cues) for intent, cues in lexicon.INTENT_CUES.items()
    }
    return emergency, intents


@lru_cache(maxsize=1)
def _small_cues():
    yes = tuple(_cue(p) for p in lexicon.YES_WORDS)
    no = tuple(_cue(p) for p in lexicon.NO_WORDS)
    for_self = tuple(_cue(p) for p in (*lexicon.FOR_SELF, "записать я", "book me"))
    for_whom = {lemma(word): relation for word, relation in lexicon.FOR_WHOM.items()}
    return yes, no, for_self, for_whom


@lru_cache(maxsize=1)
def _unhappy_cues() -> tuple[str, ...]:
    return tuple(_cue(p) for p in lexicon.UNHAPPY)


def _phone(text: str) -> tuple[str | None, str]:
    """The first phone number in E.164 and the text without it (its digits are no time)."""
    if sum(ch.isdigit() for ch in text) < 10:
        return None, text
    for match in phonenumbers.PhoneNumberMatcher(text, "RU"):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        return number, text[: match.start] + " " + text[match.end :]
    return None, text


def _entities(toks: list[str], lems: list[str], vocabulary: Vocabulary, original: str):
    found: dict[str, list] = {"specialty": [], "service": [], "clinic": [], "city": []}
    used = [False] * len(lems)
    for size in range(min(MAX_PHRASE, len(lems)), 0, -1):
        for start in range(len(lems) - size + 1):
            if any(used[start : start + size]):
                continue
            hits = vocabulary.phrases.get(tuple(lems[start : start + size]))
            if not hits:
                continue
            for kind, pk in sorted(hits, key=str):
                if pk not in found[kind]:
                    found[kind].append(pk)
            used[start : start + size] = [True] * size
    present = set(lems)
    for pk, keys in vocabulary.service_keys.items():
        if len(keys & present) * 3 >= len(keys) * 2 and pk not in found["service"]:
            found["service"].append(pk)
    doctors: list[int] = []
    for index, (token, lem) in enumerate(zip(toks, lems, strict=True)):
        if used[index] or lem in vocabulary.known or len(token) < 4:
            continue
        latin = not re.search(r"[а-я]", token)
        before = toks[index - 1] if index else ""
        capitalized = index > 0 and re.search(rf"\b{re.escape(token.capitalize())}\b", original)
        named = before in SURNAME_CUES or capitalized
        # A surname is a word the dictionary calls one, does not know, or that is written like
        # a name or after "к", "доктор", "Dr"; English words only in the last two cases.
        if not named and (latin or not is_surname_like(token)):
            continue
        hit = vocabulary.doctor_for(token, lemma(token))
        if hit and (not latin or hit[1] >= 0.88) and hit[0] not in doctors:
            doctors.append(hit[0])
            used[index] = True
    return found, doctors


def _answer(joined: str, count: int) -> str | None:
    yes, no, _, _ = _small_cues()
    if count > 8:
        return None
    for cue in no:
        if joined.startswith(cue) or (count <= 3 and cue in joined):
            return "no"
    for cue in yes:
        if joined.startswith(cue):
            return "yes"
    return None


def _choice(toks: list[str], lems: list[str]) -> int | None:
    if len(toks) == 1 and toks[0].isdigit() and 1 <= int(toks[0]) <= 20:
        return int(toks[0])
    for index, word in enumerate(lems):
        if word in lexicon.CHOICE_MARKERS and index + 1 < len(toks) and toks[index + 1].isdigit():
            return int(toks[index + 1])
        number = lexicon.ORDINALS.get(word) or lexicon.ORDINALS.get(toks[index])
        if number and (
            len(toks) <= 5
            or (
                index + 1 < len(lems)
                and lems[index + 1] in ("вариант", "one", "option", "slot", "время", "окно")
            )
        ):
            return number
    return None


def _intent(joined: str) -> tuple[str, float, float]:
    emergency, intents = _cues()
    if any(cue in joined for cue in emergency):
        return "emergency", 0.99, 0.0
    scores = {
        intent: sum(weight for cue, weight in cues if cue in joined)
        for intent, cues in intents.items()
    }
    ranked = sorted(
        scores.items(), key=lambda item: (-item[1], lexicon.INTENT_PRIORITY.index(item[0]))
    )
    (best, top), (_, second) = ranked[0], ranked[1]
    return best, top, second


def understand(
    text: str,
    *,
    language: str | None,
    vocabulary: Vocabulary,
    now: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
) -> Understanding:
    """Read one message; dates are relative to `now` in `tz` (the clinic's or the patient's)."""
    raw = normalize(text[:MAX_TEXT])
    phone, raw = _phone(raw)
    lang = detect_language(raw, language)
    toks = tokens(raw)
    lems = [vocabulary.correct(t, lemma(t)) for t in toks]
    joined = " " + " ".join(lems) + " "
    intent, score, second = _intent(joined)
    found, doctors = _entities(toks, lems, vocabulary, text[:MAX_TEXT])
    when = parse_when(raw, today=now.astimezone(tz).date(), language=lang)
    _, _, for_self, for_whom_words = _small_cues()
    for_whom = next((for_whom_words[w] for w in lems if w in for_whom_words), None)
    if for_whom is None and any(cue in joined for cue in for_self):
        for_whom = "self"
    answer = _answer(joined, len(toks))
    choice = _choice(toks, lems)
    choice_time = None
    if when is not None and when.time_from is not None and when.time_from == when.time_to:
        choice_time = when.time_from
    followup = False
    if intent == "emergency":
        confidence = 0.99
    elif score > 0:
        confidence = min(0.97, 0.55 + 0.1 * score)
        if second >= score * 0.8:
            confidence *= 0.75  # two intents nearly tie: let the engine ask
    elif found["specialty"] or found["service"] or doctors:
        intent, confidence = "book", 0.6  # "к кардиологу на завтра" is a booking
    else:
        intent = "unknown"
        followup = any((answer, choice, when, for_whom, phone, found["clinic"], found["city"]))
        confidence = 0.5 if followup else 0.2
    unhappy = intent != "emergency" and any(cue in joined for cue in _unhappy_cues())
    if unhappy:
        # The engine hands an unhappy patient over whatever else they asked for.
        intent, confidence, followup = "handoff", max(confidence, 0.8), False
    return Understanding(
        intent=intent,
        confidence=round(confidence, 2),
        language=lang,
        specialty_ids=tuple(found["specialty"]),
        service_ids=tuple(found["service"]),
        doctor_ids=tuple(doctors),
        clinic_ids=tuple(found["clinic"]),
        city=found["city"][0] if found["city"] else None,
        when=when,
        for_whom=for_whom,
        answer=answer,
        choice=choice,
        choice_time=choice_time,
        phone=phone,
        followup=followup,
        unhappy=unhappy,
    )
