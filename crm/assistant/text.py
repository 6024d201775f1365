"""Tokens and lemmas: the one place that knows pymorphy3.

The analyser loads its dictionaries once per process (~70 ms); lemmas are cached, since
patients reuse a small vocabulary and a parse costs ~90 µs.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3

# Hyphens split words ("ухо-горло-нос", "санкт-петербург"); apostrophes do not ("can't").
TOKEN_RE = re.compile(r"[a-zа-я0-9]+(?:'[a-z]+)*")
CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN_RE = re.compile(r"[a-z]", re.IGNORECASE)


@lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


def normalize(text: str) -> str:
    """Lower case, ё as е, one kind of apostrophe and spaces."""
    text = text.lower().replace("ё", "е").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(normalize(text))


@lru_cache(maxsize=50_000)
def lemma(token: str) -> str:
    """The dictionary form of a Russian word; English words stay as written, minus a plural."""
    if not CYRILLIC_RE.search(token):
        if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
            return token[:-1]
        return token
    return morph().parse(token)[0].normal_form.replace("ё", "е")


def lemma_variants(token: str) -> set[str]:
    """Every dictionary form a word may have ("лора" is ЛОР in the genitive or the name Лора)."""
    if not CYRILLIC_RE.search(token):
        return {lemma(token)}
    return {p.normal_form.replace("ё", "е") for p in morph().parse(token)} | {lemma(token)}


@lru_cache(maxsize=50_000)
def is_known_word(token: str) -> bool:
    return bool(CYRILLIC_RE.search(token)) and morph().word_is_known(token)


@lru_cache(maxsize=50_000)
def is_surname_like(token: str) -> bool:
    """Tagged as a surname by the dictionary, or a word the dictionary does not know."""
    if not CYRILLIC_RE.search(token):
        return True
    parses = morph().parse(token)
    return any("Surn" in p.tag for p in parses) or not morph().word_is_known(token)


def lemmas(text: str) -> list[str]:
    return [lemma(t) for t in tokens(text)]


def detect_language(text: str, hint: str | None) -> str:
    cyrillic = len(CYRILLIC_RE.findall(text))
    latin = len(LATIN_RE.findall(text))
    if cyrillic or latin:
        return "ru" if cyrillic >= latin else "en"
    return hint if hint in ("ru", "en") else "ru"


TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
        "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip


def transliterate(word: str) -> str:
    """Russian to Latin letters the way passports spell names (Иванова → ivanova)."""
    return normalize(word).translate(TRANSLIT)
