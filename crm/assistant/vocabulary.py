"""The catalogue as the assistant reads it: names of specialties, services, doctors, clinics
and cities in Russian and English with their lemmas, synonyms and typo-tolerant indexes.

A `Vocabulary` is built from plain rows (the selector `vocabulary_load()` reads them) and
indexed once; `understanding.understand()` only looks things up in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from crm.assistant import lexicon
from crm.assistant.text import (
    is_known_word,
    lemma,
    lemma_variants,
    lemmas,
    normalize,
    transliterate,
)

# Words of catalogue names that say nothing about which one is meant.
STOP_LEMMAS = frozenset(
    (
        *("прием", "первичный", "повторный", "врач", "доктор", "клиника", "центр", "город"),
        *("улица", "ул", "дом", "д", "проспект", "пр", "переулок", "пер", "шоссе", "г"),
        *("с", "и", "на", "в", "по", "к", "для"),
        *("the", "of", "a", "and", "clinic", "centre", "center", "doctor", "visit", "first"),
        "repeat",
    )
)
MAX_PHRASE = 5


@dataclass(frozen=True)
class SpecialtyRow:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class ServiceRow:
    id: int
    code: str
    name: str
    specialty_id: int


@dataclass(frozen=True)
class DoctorRow:
    id: int
    last_name: str
    first_name: str = ""
    middle_name: str = ""


@dataclass(frozen=True)
class ClinicRow:
    id: int
    name: str
    city: str
    address: str = ""


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(lemmas(text))


@dataclass
class Vocabulary:
    """Indexes over the catalogue; build with `Vocabulary.build(...)`, then read only."""

    version: str
    specialties: dict[int, SpecialtyRow] = field(default_factory=dict)
    services: dict[int, ServiceRow] = field(default_factory=dict)
    doctors: dict[int, DoctorRow] = field(default_factory=dict)
    clinics: dict[int, ClinicRow] = field(default_factory=dict)
    # lemma sequence → {(kind, id)}; kind is specialty, service, clinic or city (id: city name)
    phrases: dict[tuple[str, ...], set[tuple[str, int | str]]] = field(default_factory=dict)
    # service id → the lemmas its name needs (all of them must appear)
    service_keys: dict[int, frozenset[str]] = field(default_factory=dict)
    # surnames as written and transliterated → doctor ids; by lemma ("иванов") apart, since
    # the lemma of "Иванова" is "иванов" too
    surnames: dict[str, set[int]] = field(default_factory=dict)
    surname_lemmas: dict[str, set[int]] = field(default_factory=dict)
    # (form, doctor id) → how usual the reading is: "Иванову" is Иванов's dative (1) before
    # Иванова's accusative (2)
    surname_ranks: dict[tuple[str, int], int] = field(default_factory=dict)
    # every single word worth correcting a typo towards
    known: frozenset[str] = frozenset()
    known_list: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        version: str,
        specialties: list[SpecialtyRow],
        services: list[ServiceRow],
        doctors: list[DoctorRow],
        clinics: list[ClinicRow],
    ) -> Vocabulary:
        vocab = cls(
            version=version,
            specialties={s.id: s for s in specialties},
            services={s.id: s for s in services},
            doctors={d.id: d for d in doctors},
            clinics={c.id: c for c in clinics},
        )
        phrases: dict[tuple[str, ...], set[tuple[str, int | str]]] = defaultdict(set)
        for specialty in specialties:
            name = normalize(specialty.name)
            phrases[_phrase(name)].add(("specialty", specialty.id))
            for part in name.replace("(", " ( ").replace(")", " ) ").split("("):
                part = part.strip(" )")
                if part:
                    phrases[_phrase(part)].add(("specialty", specialty.id))
            name_lemma = lemma(name.split()[0]) if name.split() else ""
            for names, ru, en in lexicon.SPECIALTY_SYNONYMS:
                if specialty.slug in names or name_lemma in names:
                    for synonym in ru + en:
                        phrases[_phrase(synonym)].add(("specialty", specialty.id))
        for service in services:
            keys = frozenset(w for w in _phrase(service.name) if w not in STOP_LEMMAS)
            if keys:
                vocab.service_keys[service.id] = keys
            ru, en = lexicon.SERVICE_SYNONYMS.get(service.code, ((), ()))
            for synonym in ru + en:
                phrases[_phrase(synonym)].add(("service", service.id))
        brand = _common_lemmas([c.name for c in clinics]) if len(clinics) > 1 else set()
        for clinic in clinics:
            for word in set(_phrase(clinic.name) + _phrase(clinic.address)):
                if word not in STOP_LEMMAS | brand and not word.isdigit() and len(word) > 2:
                    phrases[(word,)].add(("clinic", clinic.id))
                    phrases[(transliterate(word),)].add(("clinic", clinic.id))
            city = normalize(clinic.city)
            if city:
                for form in {city, transliterate(city), *lexicon.CITY_NAMES_EN.get(city, ())}:
                    phrases[_phrase(form)].add(("city", clinic.city))
        surnames: dict[str, set[int]] = defaultdict(set)
        surname_lemmas: dict[str, set[int]] = defaultdict(set)
        ranks: dict[tuple[str, int], int] = {}
        for doctor in doctors:
            surname = normalize(doctor.last_name)
            if not surname:
                continue
            for form, rank in ((surname, 0), (transliterate(surname), 0), *surname_cases(surname)):
                surnames[form].add(doctor.id)
                ranks[(form, doctor.id)] = min(rank, ranks.get((form, doctor.id), rank))
            surname_lemmas[lemma(surname)].add(doctor.id)
        # A one-word name is found whichever way the analyser reads the patient's word.
        for phrase, hits in list(phrases.items()):
            if len(phrase) == 1:
                for variant in lemma_variants(phrase[0]):
                    phrases.setdefault((variant,), set()).update(hits)
        vocab.phrases = dict(phrases)
        # A service is named by the words that are not also a specialty's or a clinic's
        # ("УЗИ щитовидной железы" by "щитовидный железа"); "Приём терапевта" has none.
        single = {phrase[0] for phrase in phrases if len(phrase) == 1}
        vocab.service_keys = {
            pk: keys - single for pk, keys in vocab.service_keys.items() if keys - single
        }
        vocab.surnames = dict(surnames)
        vocab.surname_lemmas = dict(surname_lemmas)
        vocab.surname_ranks = ranks
        words = {w for phrase in phrases for w in phrase}
        words |= {w for keys in vocab.service_keys.values() for w in keys}
        words |= set(_cue_words())
        vocab.known = frozenset(w for w in words if len(w) >= 4)
        vocab.known_list = tuple(sorted(vocab.known))
        return vocab

    def correct(self, token: str, token_lemma: str) -> str:
        """The vocabulary word a misspelt token most likely means, or its own lemma."""
        if token_lemma in self.known or token in self.known or len(token) < 5:
            return token_lemma
        if is_known_word(token) and token_lemma not in self.known:
            # A real word that is simply not ours ("погода"): no correcting it into one.
            return token_lemma
        best = process.extractOne(
            token, self.known_list, scorer=fuzz.ratio, score_cutoff=80
        ) or process.extractOne(token_lemma, self.known_list, scorer=fuzz.ratio, score_cutoff=80)
        return best[0] if best else token_lemma

    def doctor_for(self, token: str, token_lemma: str) -> tuple[int, float] | None:
        """The doctor a surname-like token names ("Ивановой" → Иванова, "Ivanova", "Иваной")."""
        if len(token) < 4 or not self.surnames:
            return None
        exact = self.surnames.get(token)
        if exact:
            return self._likeliest(token, exact), 1.0
        best = process.extractOne(token, self.surnames.keys(), scorer=fuzz.ratio, score_cutoff=80)
        by_lemma = self.surname_lemmas.get(token_lemma)
        if by_lemma and (best is None or best[1] < 90):
            # Cases: "Иванову" has the lemma "иванов"; pick the closest written form.
            ranked = sorted(
                by_lemma,
                key=lambda pk: -fuzz.ratio(token, normalize(self.doctors[pk].last_name)),
            )
            return ranked[0], 0.9
        if best is None:
            return None
        return self._likeliest(best[0], self.surnames[best[0]]), best[1] / 100

    def _likeliest(self, form: str, ids: set[int]) -> int:
        return min(ids, key=lambda pk: (self.surname_ranks.get((form, pk), 0), pk))


def surname_cases(surname: str) -> list[tuple[str, int]]:
    """Oblique cases of a Russian surname with how usual each reading is (1 usual, 2 rarer).

    The dictionary knows common surnames only and lemmatises "Ивановой" to "иванов"; the
    endings of the -ов/-ин/-ский families are regular enough to spell out.
    """
    forms: list[tuple[str, int]] = []
    if surname.endswith(("ова", "ева", "ина", "ына")):
        forms = [(surname[:-1] + "ой", 1), (surname[:-1] + "у", 2)]
    elif surname.endswith(("ская", "цкая")):
        forms = [(surname[:-2] + "ой", 1), (surname[:-2] + "ую", 2)]
    elif surname.endswith(("ов", "ев", "ин", "ын")):
        forms = [(surname + ending, 1) for ending in ("а", "у", "ым", "е")]
    elif surname.endswith(("ский", "цкий")):
        forms = [(surname[:-2] + ending, 1) for ending in ("ого", "ому", "им", "ом")]
    return forms


def _common_lemmas(names: list[str]) -> set[str]:
    sets = [set(_phrase(name)) for name in names]
    return set.intersection(*sets) if sets else set()


def _cue_words() -> list[str]:
    words: list[str] = []
    for cues in lexicon.INTENT_CUES.values():
        for phrase, _weight in cues:
            words.extend(_phrase(phrase))
    for phrase in lexicon.EMERGENCY:
        words.extend(_phrase(phrase))
    words.extend(lemma(w) for w in lexicon.FOR_WHOM)
    words.extend(lexicon.ORDINALS)
    return words
