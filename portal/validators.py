"""Validation of patient identity values, with translated messages."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_snils(value: str) -> str:
    """СНИЛС: 11 digits with a check number; returns the canonical "XXX-XXX-XXX YY" form."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) != 11:
        raise ValidationError(_("SNILS has 11 digits."), code="invalid")
    number, check = digits[:9], int(digits[9:])
    total = sum(int(d) * (9 - i) for i, d in enumerate(number))
    if total < 100:
        expected = total
    elif total in (100, 101):
        expected = 0
    else:
        expected = total % 101
        expected = 0 if expected == 100 else expected
    if check != expected:
        raise ValidationError(_("SNILS check number does not match."), code="invalid")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def validate_oms_policy(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) != 16:
        raise ValidationError(_("An OMS policy number has 16 digits."), code="invalid")
    return digits


def validate_birth_date(value: datetime.date) -> datetime.date:
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if value.year < 1900:
        raise ValidationError(_("Check the year of birth."), code="too_old")
    return value
