"""Read paths of how a patient is written to. The outbox asks `channel_allows` before it
records a message for a patient; the preferences page shows `contact_overview`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.choices import ConsentPurpose, ContactChannel, MessageKind
from portal.crypto import blind_index
from portal.models import Consent, ContactPreference, MessengerLink, Patient
from portal.models.contact import chat_index
from portal.models.patients import BIDX_PHONE
from portal.normalize import normalize_phone

MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def phone_is_landline(phone: str) -> bool:
    """True only when the number's type is known to be a fixed line; a mobile number, one of
    unknown type or one that does not parse is not called a landline."""
    try:
        number = phonenumbers.parse(phone, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def channel_allows(*, patient: Patient, channel: str, kind: str) -> bool:
    """May a message of `kind` go to `patient` on `channel`? Not after a STOP on the channel
    or when the patient turned the kind off; marketing also needs an active advertising
    consent. One query (two for marketing)."""
    return channel in channels_allowing(patient=patient, channels=[channel], kind=kind)


def channels_allowing(*, patient: Patient, channels: Collection[str], kind: str) -> set[str]:
    """The `channels` on which a message of `kind` may go to `patient` (`channel_allows` for
    several channels at once): one query however many channels (two for marketing)."""
    refused = {
        channel
        for channel, stopped_at, wanted in ContactPreference.objects.filter(
            patient=patient, channel__in=list(channels)
        ).values_list("channel", "stopped_at", kind)
        if stopped_at is not None or not wanted
    }
    allowed = set(channels) - refused
    if allowed and kind == MessageKind.MARKETING:
        consented = Consent.objects.filter(
            patient=patient, purpose=ConsentPurpose.ADVERTISING, withdrawn_at__isnull=True
        ).exists()
        return allowed if consented else set()
    return allowed


def messenger_chat_of(patient: Patient) -> str:
    """The patient's linked Telegram chat id, or "" when none is linked."""
    link = MessengerLink.objects.filter(patient=patient).only("chat_id").first()
    return link.chat_id if link else ""


def patients_by_phone(phone: str) -> list[Patient]:
    """The (not anonymised) patients whose profile has this phone, found by its blind index;
    none for a number that does not parse. A family may share one number."""
    try:
        normal = normalize_phone(phone)
    except ValidationError:
        return []
    return list(
        Patient.objects.filter(
            phone_bidx=blind_index(BIDX_PHONE, normal), anonymised_at__isnull=True
        ).order_by("pk")
    )


def patient_by_chat(chat_id: str) -> Patient | None:
    link = (
        MessengerLink.objects.select_related("patient")
        .filter(chat_bidx=chat_index(chat_id), patient__anonymised_at__isnull=True)
        .first()
    )
    return link.patient if link else None


@dataclass(frozen=True)
class ChannelLine:
    """One channel on the preferences page."""

    channel: str
    label: str
    address: str  # shown masked by the template where needed; "" when there is none
    care: bool
    marketing: bool
    stopped: bool
    note: str  # why the channel cannot carry care messages, if it cannot

    @property
    def reachable(self) -> bool:
        return bool(self.address) and not self.note

    @property
    def carries_care(self) -> bool:
        return self.reachable and self.care and not self.stopped


@dataclass(frozen=True)
class ContactOverview:
    lines: list[ChannelLine]
    marketing_consent: bool

    @property
    def care_reaches(self) -> bool:
        """At least one channel carries visit confirmations and reminders."""
        return any(line.carries_care for line in self.lines)


def contact_overview(*, patient: Patient) -> ContactOverview:
    """Every channel with the patient's address on it and their choices. Three queries."""
    preferences = {p.channel: p for p in ContactPreference.objects.filter(patient=patient)}
    addresses = {
        ContactChannel.EMAIL: patient.email,
        ContactChannel.SMS: patient.phone,
        ContactChannel.MESSENGER: messenger_chat_of(patient),
    }
    lines = []
    for channel in ContactChannel:
        preference = preferences.get(channel.value) or ContactPreference(channel=channel.value)
        note = ""
        if channel == ContactChannel.SMS and patient.phone and phone_is_landline(patient.phone):
            note = _("This number is a landline: text messages cannot reach it.")
        lines.append(
            ChannelLine(
                channel=channel.value,
                label=str(channel.label),
                address=addresses[channel],
                care=preference.care,
                marketing=preference.marketing,
                stopped=preference.stopped_at is not None,
                note=note,
            )
        )
    consent = Consent.objects.filter(
        patient=patient, purpose=ConsentPurpose.ADVERTISING, withdrawn_at__isnull=True
    ).exists()
    return ContactOverview(lines=lines, marketing_consent=consent)
