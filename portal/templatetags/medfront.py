"""Locale-aware formatting for templates: phones, money (₽) and the current nav entry."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, timezone, translation

from portal.formatting import when_label, zone_label
from portal.normalize import format_phone

register = template.Library()


@register.filter(name="phone")
def phone_filter(value: str) -> str:
    """E.164 → '+7 914 555-12-34' (international form, readable in every locale)."""
    return format_phone(value or "")


@register.filter(name="nobreak")
def nobreak(value: str) -> str:
    """Text kept on one line inside a sentence: no-break spaces and hyphens ('+7 914 555-12-34'
    never ends a line at '+7')."""
    return str(value or "").replace(" ", "\u00a0").replace("-", "\u2011")


@register.filter(name="language_names")
def language_names(codes) -> str:
    """Language codes as their speakers write them: ['ru', 'en'] → 'Русский, English'; a code
    Django does not know stays as it is, in capitals."""
    names = []
    for code in codes or []:
        try:
            names.append(translation.get_language_info(str(code))["name_local"])
        except KeyError:
            names.append(str(code).upper())
    return ", ".join(names)


@register.filter(name="rub")
def rub(value) -> str:
    """Money in roubles per locale: '1 500 ₽' in Russian, '₽1,500' in English.

    Kopecks are shown only when there are any ('1 500,50 ₽').
    """
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    places = 0 if amount == amount.to_integral_value() else 2
    number = formats.number_format(amount, places, use_l10n=True, force_grouping=True)
    if (translation.get_language() or "ru").startswith("ru"):
        return f"{number}\u00a0₽"
    sign, digits = ("−", number[1:]) if number.startswith("-") else ("", number)
    return f"{sign}₽{digits}"


@register.simple_tag(takes_context=True)
def nav_current(context, url: str) -> str:
    """'page' when `url` is the current page or a section above it (for aria-current)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    if path == url:
        return "page"
    # A section entry (e.g. /me/family/) is current on its sub-pages too; the root never is.
    if url.count("/") > 2 and path.startswith(url):
        return "page"
    return ""


@register.filter(name="age")
def age(birth_date) -> int | str:
    """Full years from `birth_date` to today ('' when unknown)."""
    if not birth_date:
        return ""
    today = timezone.localdate()
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@register.filter(name="clinic_time")
def clinic_time(moment, clinic) -> str:
    """A moment in the clinic's zone, saying the zone when it is not the reader's."""
    if moment is None or clinic is None:
        return ""
    return when_label(moment, clinic.tz, city=clinic.city)


@register.filter(name="zone_label")
def zone_label_filter(clinic, moment=None) -> str:
    """The clinic's zone for people: 'Irkutsk time, UTC+8' (the offset at `moment`, or now)."""
    if clinic is None:
        return ""
    return zone_label(clinic.tz, city=clinic.city, at=moment)
