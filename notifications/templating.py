"""The placeholder language of editable message texts, the events staff may edit, and SMS
length in segments.

Staff write plain text with `{placeholder}` names. A placeholder is looked up in a fixed
whitelist per event and replaced by the value as text: there are no attributes, filters, tags
or expressions, so a text can reach nothing but the names listed here. The whitelist carries
only what a patient may read in any channel — the service, the time, the clinic and the doctor;
never a diagnosis, a complaint or a visit note. A text naming anything else is refused before
it is saved (`check_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from notifications.choices import Channel
from notifications.models import MessageTemplate

PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")

# Placeholder name → (what it shows, the message context's key it reads, a sample value per
# language for the preview).
PLACEHOLDERS: dict[str, tuple[StrOrPromise, str, dict[str, str]]] = {
    "network": (_("Network name"), "network_name", {"ru": "Медфронт", "en": "Medfront"}),
    "clinic": (_("Clinic"), "clinic", {"ru": "Медфронт Центр", "en": "Medfront Centre"}),
    "clinic_address": (
        _("Clinic address"),
        "clinic_address",
        {"ru": "ул. Ленина, 1", "en": "1 Lenin St"},
    ),
    "clinic_phone": (
        _("Clinic phone"),
        "clinic_phone",
        {"ru": "+7 3952 00-00-00", "en": "+7 3952 00-00-00"},
    ),
    "doctor": (
        _("Doctor"),
        "doctor",
        {"ru": "Петров Иван Сергеевич", "en": "Ivan Petrov"},
    ),
    "service": (
        _("Service"),
        "service",
        {"ru": "Приём терапевта", "en": "General practitioner visit"},
    ),
    "time": (
        _("Date and time of the visit"),
        "start_display",
        {"ru": "7 дек. 2026 г. 14:00", "en": "Dec. 7, 2026, 2 p.m."},
    ),
    "preparation": (
        _("Preparation for the service"),
        "preparation",
        {"ru": "Приходите натощак.", "en": "Come on an empty stomach."},
    ),
    "amount": (_("Amount paid, RUB"), "amount", {"ru": "1500.00", "en": "1500.00"}),
}

VISIT = ("network", "clinic", "clinic_address", "clinic_phone", "doctor", "service", "time")


@dataclass(frozen=True)
class Event:
    """An event whose texts staff may edit: its name in the outbox, its label, the
    placeholders its texts may use and the channels it goes out on."""

    name: str
    label: StrOrPromise
    placeholders: tuple[str, ...]
    channels: tuple[str, ...] = (Channel.SMS, Channel.EMAIL)


EVENTS: dict[str, Event] = {
    event.name: event
    for event in (
        Event("appointment.booked", _("Appointment booked"), (*VISIT, "preparation")),
        Event("appointment.confirmed", _("Appointment confirmed"), VISIT),
        Event("appointment.reminder", _("Reminder before the visit"), (*VISIT, "preparation")),
        Event("appointment.rescheduled", _("Appointment moved"), VISIT),
        Event("appointment.cancelled", _("Appointment cancelled"), VISIT),
        Event("appointment.rolled_back", _("Appointment change withdrawn"), VISIT),
        Event("appointment.checked_in", _("Patient checked in"), VISIT),
        Event("appointment.no_show", _("Missed visit"), VISIT),
        Event("appointment.completed", _("Visit completed"), VISIT),
        Event("payment.received", _("Payment received"), (*VISIT, "amount", "preparation")),
    )
}


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def check_text(text: str, *, event: Event) -> None:
    """Raise ValidationError naming every placeholder `event` does not offer."""
    unknown = sorted({name for name in placeholders_in(text) if name not in event.placeholders})
    if unknown:
        raise ValidationError(
            _("Unknown placeholders: %(names)s. Use only: %(allowed)s."),
            code="unknown_placeholder",
            params={
                "names": ", ".join(f"{{{name}}}" for name in unknown),
                "allowed": ", ".join(f"{{{name}}}" for name in event.placeholders),
            },
        )


def fill(text: str, values: Mapping[str, Any]) -> str:
    """`text` with each `{name}` replaced by `values[name]` as plain text. A name without a
    value becomes empty, and a line whose placeholders are all empty is left out (a
    "Preparation: {preparation}" line for a service that needs none)."""
    lines = []
    for line in text.splitlines():
        names = placeholders_in(line)
        if names and not any(values.get(name) for name in names):
            continue
        lines.append(PLACEHOLDER.sub(lambda match: str(values.get(match.group(1)) or ""), line))
    return "\n".join(lines)


def values_from_context(context: Mapping[str, Any], *, event: Event) -> dict[str, Any]:
    """The whitelisted placeholder values of one message, read from its render context."""
    return {name: context.get(PLACEHOLDERS[name][1], "") for name in event.placeholders}


def sample_values(*, event: Event, language: str) -> dict[str, str]:
    """Made-up values for the preview, in `language`."""
    return {
        name: PLACEHOLDERS[name][2].get(language, PLACEHOLDERS[name][2]["en"])
        for name in event.placeholders
    }


# --- SMS length --------------------------------------------------------------------------------

# GSM 03.38: the basic character set, and the extension set whose characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int


def sms_length(text: str) -> SmsLength:
    """How many SMS segments `text` takes: GSM-7 fits 160 septets in one message and 153 per
    part of a longer one; any other character (Cyrillic) makes the whole text UCS-2, 70 and 67
    UTF-16 units."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SmsLength(encoding, 0, 0, single)
    if units <= single:
        return SmsLength(encoding, units, 1, single)
    return SmsLength(encoding, units, -(-units // multi), multi)


# --- Rendering a message ------------------------------------------------------------------------


def render_custom(
    *, clinic_id: int | None, event: str, channel: str, language: str, context: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(subject, body) from the clinic's own text for the message, else the network's, or None
    when neither exists (or the event is not editable) and the shipped file template applies."""
    spec = EVENTS.get(event)
    if spec is None:
        return None
    row = message_template_for(clinic_id=clinic_id, event=event, channel=channel, language=language)
    if row is None:
        return None
    values = values_from_context(context, event=spec)
    return fill(row.subject, values).strip(), fill(row.body, values).strip()


def message_template_for(
    *, clinic_id: int | None, event: str, channel: str, language: str
) -> MessageTemplate | None:
    """The text a message of `clinic_id` uses: the clinic's own row, else the network's."""
    rows = MessageTemplate.objects.filter(event=event, channel=channel, language=language)
    if clinic_id is None:
        return rows.filter(clinic__isnull=True).first()
    # One query: the clinic's row sorts before the network's (NULL) one.
    return (
        rows.filter(Q(clinic_id=clinic_id) | Q(clinic__isnull=True))
        .order_by(F("clinic_id").asc(nulls_last=True))
        .first()
    )


def shipped_text(*, event: Event, channel: str, language: str) -> tuple[str, str]:
    """The shipped file template of `event` written with placeholders: the starting point of a
    clinic's own text. Each variable renders as its `{placeholder}`, so conditional parts (a
    preparation note) show as they would with a value."""
    names = [
        f"notifications/messages/{event.name}.{channel}.txt",
        f"notifications/messages/{event.name}.txt",
    ]
    context = {PLACEHOLDERS[name][1]: f"{{{name}}}" for name in event.placeholders}
    with translation.override(language):
        try:
            text = render_to_string(names, context).strip()
        except TemplateDoesNotExist:
            return "", ""
    subject = ""
    if text.startswith("Subject:"):
        first, _sep, rest = text.partition("\n")
        subject, text = first.removeprefix("Subject:").strip(), rest.strip()
    return subject, text
