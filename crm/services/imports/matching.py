"""Finding the existing profile of an imported row: exact blind-index matches first, then
probable duplicates by a fuzzy name comparison among people born on the same day.

Fuzzy matching needs the names in clear: they are decrypted into this process's memory only
(`PatientIndex.load`), grouped by date of birth, and never written anywhere.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from rapidfuzz import fuzz

from portal.models import Patient
from portal.models.patients import blind_indexes_of
from portal.normalize import normalize_name

STRONG_KEYS = ("name_birth_bidx", "document_bidx")


class NewRef:
    """A profile this run creates (or, in a dry run, would create); saved at the chunk's end."""

    __slots__ = ("patient",)

    def __init__(self, patient: Patient | None) -> None:
        self.patient = patient


Ref = int | NewRef


@dataclass(frozen=True)
class Match:
    """What a row is: `link` to an existing profile, or a new one with `flags` (probable
    duplicates: (profile, similarity 0-100, reason))."""

    link: Ref | None
    flags: list[tuple[Ref, int, str]]


def name_key(fields: dict[str, object]) -> str:
    return " ".join(
        normalize_name(str(fields.get(name) or "")) for name in ("last_name", "first_name")
    ).strip()


def similarity(a: str, b: str) -> int:
    """0-100: the better of the plain comparison and one that ignores word order (surname and
    first name swapped in a column); sorting alone would reorder words a typo changed."""
    return round(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)))


class PatientIndex:
    """Active profiles by blind index (looked up per chunk) and by date of birth (in memory)."""

    def __init__(self) -> None:
        self.by_birth: dict[datetime.date, list[tuple[Ref, str]]] = defaultdict(list)
        self.names: dict[Ref, str] = {}
        self.exact: dict[str, Ref] = {}
        self.min_score = settings.CRM_DUPLICATE_MIN_SCORE

    @classmethod
    def load(cls) -> PatientIndex:
        index = cls()
        rows = (
            Patient.objects.filter(anonymised_at__isnull=True, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", "last_name", "first_name", "birth_date")
        )
        for pk, last_name, first_name, birth_date in rows.iterator(chunk_size=2000):
            index._remember(pk, {"last_name": last_name, "first_name": first_name}, birth_date)
        return index

    def _remember(self, ref: Ref, fields: dict[str, object], birth: object) -> None:
        key = name_key(fields)
        self.names[ref] = key
        if isinstance(birth, datetime.date):
            self.by_birth[birth].append((ref, key))

    def prefetch(self, bidx_values: set[str]) -> dict[str, int]:
        """The oldest active profile per blind-index value, in one query per chunk."""
        found: dict[str, int] = {}
        if not bidx_values:
            return found
        condition = (
            Q(phone_bidx__in=bidx_values)
            | Q(name_birth_bidx__in=bidx_values)
            | Q(document_bidx__in=bidx_values)
        )
        rows = (
            Patient.objects.filter(condition, anonymised_at__isnull=True, merged_into__isnull=True)
            .order_by("-pk")
            .values_list("pk", "phone_bidx", "name_birth_bidx", "document_bidx")
        )
        for pk, *values in rows:
            for value in values:
                if value in bidx_values:
                    found[value] = pk
        return found

    def match(
        self, fields: dict[str, object], known: dict[str, int]
    ) -> tuple[Match, dict[str, str]]:
        """The match for a row's cleaned fields; also returns its blind indexes."""
        indexes = row_indexes(fields)
        key = name_key(fields)
        for name in STRONG_KEYS:
            value = indexes[name]
            ref = (self.exact.get(value) or known.get(value)) if value else None
            if ref is not None:
                return Match(link=ref, flags=[]), indexes
        flags: list[tuple[Ref, int, str]] = []
        phone = indexes["phone_bidx"]
        ref = (self.exact.get(phone) or known.get(phone)) if phone else None
        if ref is not None:
            score = similarity(key, self.names.get(ref, ""))
            if score >= self.min_score:
                return Match(link=ref, flags=[]), indexes
            # One phone, another name: often a family sharing a number. Not the same person
            # for sure, so a new profile, flagged for a human to decide.
            flags.append((ref, score, "same_phone"))
        birth = fields.get("birth_date")
        if isinstance(birth, datetime.date):
            for other, other_key in self.by_birth.get(birth, ()):
                score = similarity(key, other_key)
                if score >= self.min_score and all(f[0] is not other for f in flags):
                    flags.append((other, score, "similar_name"))
        return Match(link=None, flags=flags[:5]), indexes

    def add(self, ref: Ref, fields: dict[str, object], indexes: dict[str, str]) -> None:
        """Remember a profile this run creates, so later rows of the file find it too."""
        for name in ("phone_bidx", *STRONG_KEYS):
            if indexes[name]:
                self.exact.setdefault(indexes[name], ref)
        self._remember(ref, fields, fields.get("birth_date"))


def row_indexes(fields: dict[str, object]) -> dict[str, str]:
    birth = fields.get("birth_date")
    return blind_indexes_of(
        phone=str(fields.get("phone") or ""),
        email=str(fields.get("email") or ""),
        last_name=str(fields.get("last_name") or ""),
        first_name=str(fields.get("first_name") or ""),
        birth_date=birth if isinstance(birth, datetime.date) else None,
        id_document_number=str(fields.get("id_document_number") or ""),
    )
