"""Letters that look alike across scripts, and characters nobody sees.

"Иванов" typed with a Latin "о", or with a zero-width space inside, looks the same on every
screen but is another string: without folding, its blind index differs and duplicate
detection misses the existing profile. `fold_word_scripts` brings a word written mostly in
one script back to it; `remove_invisible` drops format characters (Unicode category Cf:
zero-width spaces and joiners, the soft hyphen, bidi controls, the BOM) and the combining
grapheme joiner.

The pairs are the letters whose glyphs are the same in common fonts (Unicode's confusables
for Latin, Cyrillic and Greek, limited to the letters of Russian and English names), kept
case by case: a Latin "B" looks like a Cyrillic "В", a Latin "b" does not look like a "в".
"""

from __future__ import annotations

import re
import unicodedata

# Latin → Cyrillic, by case.
_LATIN_TO_CYRILLIC = dict(zip("ABCEHKMOPTXYaceopxy", "АВСЕНКМОРТХУасеорху", strict=True))
# Cyrillic → Latin: the same pairs back, and the Cyrillic letters of other languages that
# look like Latin ones (і, ј, ѕ).
_CYRILLIC_TO_LATIN = {cyr: lat for lat, cyr in _LATIN_TO_CYRILLIC.items()} | dict(
    zip("ІЈЅіјѕ", "IJSijs", strict=True)
)
# Greek capitals (and omicron) that look like letters of both scripts; some only like Latin.
_GREEK_TO_CYRILLIC = dict(zip("ΑΒΕΗΚΜΟΡΤΥΧο", "АВЕНКМОРТУХо", strict=True))
_GREEK_TO_LATIN = dict(zip("ΑΒΕΗΙΚΜΝΟΡΤΥΧΖο", "ABEHIKMNOPTYXZo", strict=True))

_TO_CYRILLIC = str.maketrans(_LATIN_TO_CYRILLIC | _GREEK_TO_CYRILLIC)
_TO_LATIN = str.maketrans(_CYRILLIC_TO_LATIN | _GREEK_TO_LATIN)

_LOOK_ALIKES = set(_LATIN_TO_CYRILLIC) | set(_CYRILLIC_TO_LATIN) | set(_GREEK_TO_LATIN)
_WORD = re.compile(r"[^\W\d_]+")
# Invisible, yet not a format character: the combining grapheme joiner.
_ALSO_INVISIBLE = {"\u034f"}


def remove_invisible(text: str) -> str:
    return "".join(
        ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in _ALSO_INVISIBLE
    )


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").partition(" ")[0]


def _fold_word(word: str) -> str:
    """The word with its look-alike letters in the script of its other letters.

    A word whose letters all have look-alikes ("Рое", "Cox") is folded to Cyrillic whatever
    it was typed in, so both spellings meet; a word with distinctive letters of two scripts
    is left as it is (it is no look-alike of anything).
    """
    distinctive = {_script(ch) for ch in word if ch not in _LOOK_ALIKES}
    if distinctive <= {"CYRILLIC"}:
        return word.translate(_TO_CYRILLIC)
    if distinctive == {"LATIN"}:
        return word.translate(_TO_LATIN)
    return word


def fold_word_scripts(text: str) -> str:
    """`text` with every word's look-alike letters folded into one script (`_fold_word`)."""
    return _WORD.sub(lambda match: _fold_word(match.group()), text)
