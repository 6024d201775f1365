"""Normalisation of identifying values before they are indexed or stored.

The same normalisation feeds both the stored value and the blind index, so a phone typed as
"8 (914) 555-12-34" and "+79145551234" finds the same patient.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from portal.homoglyphs import fold_word_scripts, remove_invisible

_SPACES = re.compile(r"\s+")


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of `raw` or raise ValidationError with a translated message."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if len(text) > 32:
        raise ValidationError(_("The phone number is too long."), code="max_length")
    region = region or settings.PHONE_DEFAULT_REGION
    # Russian habit: a leading 8 is the trunk prefix of +7.
    digits = re.sub(r"\D", "", text)
    if region == "RU" and not text.startswith("+") and len(digits) == 11 and digits[0] == "8":
        text = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str, *, international: bool = True) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
        if international
        else phonenumbers.PhoneNumberFormat.NATIONAL
    )
    return phonenumbers.format_number(number, style)


def normalize_email(raw: str) -> str:
    """The one spelling of an e-mail address: Unicode NFKC, case-folded, trimmed; validated.

    NFKC makes full-width and other compatibility forms ("ａｎｎａ＠…") the plain letters they
    look like, and casefold() goes further than lower() ("ß" is "ss"), so no other spelling
    of an address reaches a different account, blind index or counter.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip().casefold()
    if len(text) > 254:
        raise ValidationError(_("The email address is too long."), code="max_length")
    validate_email(text)
    return text


def canonical_login(raw: str) -> str:
    """The one spelling of a sign-in identifier, used for the account lookup, the lockout and
    every rate limit: an e-mail as `normalize_email`, a phone in E.164.

    What is neither still gets one spelling (NFKC, case-folded, without spaces), so a malformed
    identifier cannot be varied into fresh counters either.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    try:
        return normalize_email(text) if "@" in text else normalize_phone(text)
    except ValidationError:
        return _SPACES.sub("", text).casefold()


def clean_name(raw: str) -> str:
    """A name as it is stored and shown: NFKC (full-width and compatibility forms become the
    plain letters), invisible characters removed, spaces collapsed; letters as typed."""
    text = remove_invisible(unicodedata.normalize("NFKC", raw or ""))
    return _SPACES.sub(" ", text).strip()


def normalize_name(raw: str) -> str:
    """A name as blind indexes and duplicate checks compare it: `clean_name`, look-alike
    letters folded into each word's script (a Latin "о" in "Иванов"), case-folded, ё/е and
    dash variants unified, so no spelling that looks the same gets an index of its own."""
    text = fold_word_scripts(clean_name(raw)).casefold().replace("ё", "е")
    # Dashes and hyphens of every kind (Unicode category Pd) and the minus sign.
    return "".join("-" if unicodedata.category(ch) == "Pd" or ch == "\u2212" else ch for ch in text)


def phone_last_digits(e164: str, count: int = 4) -> str:
    return re.sub(r"\D", "", e164)[-count:]


def normalize_document_number(raw: str) -> str:
    """An ID document number without spaces, dashes, dots or "№", letters upper-case (NFKC
    first, so full-width digits count): the form its blind index is computed from."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if ch.isalnum()).upper()
