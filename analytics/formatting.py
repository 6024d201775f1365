"""KPI values as people read them, per the active language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

# The units written as a sign after the number (minutes and seconds are translated words).
UNIT_SIGNS = {"percent": "%", "per_mille": "‰", "money": "₽"}


def with_unit(number: str, unit: str) -> str:
    """A number already formatted, with its unit's suffix (a bare count has none)."""
    if unit == "minutes":
        return _("%(n)s min") % {"n": number}
    if unit == "seconds":
        return _("%(n)s s") % {"n": number}
    sign = UNIT_SIGNS.get(unit)
    return f"{number}\u00a0{sign}" if sign else number


def shown(value: Any, unit: str) -> Any:
    """The number a value reads as, before the language's separators: shares as per cent to
    one decimal, roubles, minutes and seconds whole."""
    if unit == "percent":
        return round(value * 100, 1)
    if unit == "per_mille":
        return round(value, 1)
    if unit in ("minutes", "seconds"):
        return round(value)
    if unit == "money":
        return Decimal(value).quantize(Decimal(1))
    return value


def format_shown(number: Any, unit: str) -> str:
    """A number from `shown` in the active language, with its unit."""
    if unit in ("percent", "per_mille"):
        return with_unit(number_format(number, 1), unit)
    # Seconds are few; thousands of roubles, minutes and counts are grouped.
    return with_unit(number_format(number, 0, force_grouping=unit != "seconds"), unit)


def format_value(value: Any, unit: str) -> str:
    """A KPI value with its unit; None reads "no data yet" (never a fake zero)."""
    if value is None:
        return _("no data yet")
    return format_shown(shown(value, unit), unit)


def format_target(target: Decimal, unit: str) -> str:
    """A target as typed (per cent for shares) with its unit: "6 %" beside "6,9 %"."""
    return with_unit(number_format(target.normalize()), unit)


def as_target_unit(value: Any, unit: str) -> Any:
    """A KPI value in the unit its target is typed in (per cent for shares)."""
    if value is None:
        return None
    return Decimal(str(value)) * 100 if unit == "percent" else Decimal(str(value))


def delta(
    current: Any, previous: Any, *, higher_is_better: bool, unit: str
) -> dict[str, Any] | None:
    """The change from `previous` to `current`: text, direction and whether it is good."""
    if current is None or previous is None:
        return None
    diff = float(current) - float(previous)
    if unit == "percent":
        text = _("%(sign)s%(n)s pp") % {
            "sign": "+" if diff >= 0 else "−",
            "n": number_format(round(abs(diff) * 100, 1), 1),
        }
    elif previous:
        change = number_format(round(abs(diff) / float(previous) * 100), 0)
        text = f"{'+' if diff >= 0 else '−'}{change}\u00a0%"
    else:
        return None
    if abs(diff) < 1e-9:
        return {"text": text, "direction": "flat", "good": None}
    good = (diff > 0) == higher_is_better
    return {"text": text, "direction": "up" if diff > 0 else "down", "good": good}
