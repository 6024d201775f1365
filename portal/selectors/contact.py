"""Read paths of how a patient is written to. The outbox asks `contact_address` where a message
goes and `channel_allows` whether it may; the preferences page shows `contact_overview`.

A dependant (a child a parent books for) is written to on their own phone, e-mail or Telegram
chat where their profile has one, and otherwise on their guardian's (`message_guardian`): the
guardian's phone gets the child's confirmations and reminders, and a STOP or a YES from it acts
for the child too (`dependants_reached_through`). The dependant's own message settings, which
the guardian sets, decide what goes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.choices import ConsentPurpose, ContactChannel, MessageKind
from portal.crypto import blind_index
from portal.models import Consent, ContactPreference, FamilyLink, MessengerLink, Patient
from portal.models.contact import chat_index
from portal.models.patients import BIDX_PHONE
from portal.normalize import normalize_phone

# The preference's column that says whether the patient takes messages of each kind.
PREFERENCE_COLUMNS: dict[str, str] = {MessageKind.CARE: "care", MessageKind.MARKETING: "marketing"}

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
    asked = list(channels)
    if not asked:
        return set()
    # Plain SQL: every booking and reminder asks. Its text is constants only: placeholders and
    # the column of the kind.
    marks = ", ".join(["%s"] * len(asked))
    sql = (
        "SELECT p.channel FROM portal_contactpreference p WHERE p.patient_id = %s"  # noqa: S608
        f" AND p.channel IN ({marks})"
        f" AND (p.stopped_at IS NOT NULL OR NOT p.{PREFERENCE_COLUMNS[kind]})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [patient.pk, *asked])
        refused = {channel for (channel,) in cursor.fetchall()}
    allowed = set(asked) - refused
    if allowed and kind == MessageKind.MARKETING:
        consented = Consent.objects.filter(
            patient=patient, purpose=ConsentPurpose.ADVERTISING, withdrawn_at__isnull=True
        ).exists()
        return allowed if consented else set()
    return allowed


def messenger_chat_of(patient: Patient) -> str:
    """The patient's own linked Telegram chat id, or "" when none is linked."""
    link = MessengerLink.objects.filter(patient=patient).only("chat_id").first()
    return link.chat_id if link else ""


def _guardian_links(patient: Patient) -> QuerySet[FamilyLink]:
    """The patient's links to guardians still valid today, oldest first."""
    return (
        FamilyLink.objects.filter(dependant=patient, guardian__anonymised_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate()))
        .order_by("created_at", "pk")
    )


def message_guardian(patient: Patient) -> Patient | None:
    """The guardian whose address carries `patient`'s messages on a channel the patient has no
    address of their own on: the one of the oldest link still valid; None for a patient who is
    nobody's dependant. One query."""
    link = _guardian_links(patient).select_related("guardian").first()
    return link.guardian if link else None


def messenger_chat_for(patient: Patient) -> str:
    """The Telegram chat a message to `patient` goes to: their own, else their guardian's
    (`message_guardian`); "" when neither has one. One query."""
    guardian = Subquery(_guardian_links(patient).values("guardian_id")[:1])
    chats = dict(
        MessengerLink.objects.filter(Q(patient=patient) | Q(patient_id=guardian)).values_list(
            "patient_id", "chat_id"
        )
    )
    return chats.get(patient.pk) or next(iter(chats.values()), "")


def has_messenger_chat(patient: Patient) -> bool:
    """Whether a message to `patient` has a Telegram chat to go to (`messenger_chat_for` is not
    ""): their own or their guardian's. One plain statement that decrypts nothing: every
    booking and reminder asks, and most patients have no chat."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM portal_messengerlink m WHERE m.patient_id = %s"
            " OR m.patient_id = (SELECT fl.guardian_id FROM portal_familylink fl"
            " JOIN portal_patient g ON g.id = fl.guardian_id"
            " WHERE fl.dependant_id = %s AND g.anonymised_at IS NULL"
            " AND (fl.valid_until IS NULL OR fl.valid_until >= %s)"
            " ORDER BY fl.created_at, fl.id LIMIT 1)"
            " LIMIT 1",
            [patient.pk, patient.pk, timezone.localdate()],
        )
        return cursor.fetchone() is not None


def _own_address(patient: Patient, channel: str) -> str:
    if channel == ContactChannel.SMS:
        return patient.phone
    if channel == ContactChannel.EMAIL:
        return patient.email
    return ""


def contact_address(patient: Patient, channel: str) -> str:
    """Where a message to `patient` on `channel` goes: their own phone, e-mail or Telegram chat,
    else their guardian's (`message_guardian`), else "". A patient with their own phone or
    e-mail costs no query; the chat costs one."""
    if channel == ContactChannel.MESSENGER:
        return messenger_chat_for(patient)
    own = _own_address(patient, channel)
    if own:
        return own
    guardian = message_guardian(patient)
    return _own_address(guardian, channel) if guardian is not None else ""


def patients_out_of_reach(patients: Collection[Patient]) -> set[int]:
    """The pks of `patients` no visit message (care) can reach: on no channel is there an
    address of their own or their guardian's (`contact_address`) whose channel they keep care
    messages on (`channels_allowing`); an SMS to a known landline never counts. The waitlist
    skips them: an offer nobody reads would waste a batch. Three queries however many
    patients, none for none."""
    by_pk = {patient.pk: patient for patient in patients}
    if not by_pk:
        return set()
    guardians: dict[int, Patient] = {}
    links = (
        FamilyLink.objects.filter(dependant__in=list(by_pk), guardian__anonymised_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate()))
        .select_related("guardian")
        .order_by("created_at", "pk")
    )
    for link in links:
        guardians.setdefault(link.dependant_id, link.guardian)
    with_chat = set(
        MessengerLink.objects.filter(
            patient__in=[*by_pk, *(g.pk for g in guardians.values())]
        ).values_list("patient_id", flat=True)
    )
    refused = {
        (patient_id, channel)
        for patient_id, channel, stopped_at, wanted in ContactPreference.objects.filter(
            patient__in=list(by_pk)
        ).values_list("patient_id", "channel", "stopped_at", MessageKind.CARE)
        if stopped_at is not None or not wanted
    }

    def reaches(patient: Patient, channel: str) -> bool:
        if (patient.pk, channel) in refused:
            return False
        guardian = guardians.get(patient.pk)
        if channel == ContactChannel.MESSENGER:
            return patient.pk in with_chat or (guardian is not None and guardian.pk in with_chat)
        address = _own_address(patient, channel) or (
            _own_address(guardian, channel) if guardian is not None else ""
        )
        return bool(address) and not (channel == ContactChannel.SMS and phone_is_landline(address))

    return {
        pk
        for pk, patient in by_pk.items()
        if not any(reaches(patient, channel) for channel in ContactChannel)
    }


def dependants_reached_through(patients: Collection[Patient], channel: str) -> list[Patient]:
    """The dependants (links still valid) of `patients` who have no phone (SMS) or chat
    (messenger) of their own: their messages go to the guardian's, so a STOP, START or YES
    sent from there is theirs too. One query."""
    if channel not in (ContactChannel.SMS, ContactChannel.MESSENGER) or not patients:
        return []
    links = (
        FamilyLink.objects.filter(
            guardian__in=[p.pk for p in patients], dependant__anonymised_at__isnull=True
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate()))
        .select_related("dependant")
        .order_by("created_at", "pk")
    )
    if channel == ContactChannel.MESSENGER:
        links = links.filter(dependant__messenger_link__isnull=True)
    seen = {p.pk for p in patients}
    found = []
    for link in links:
        dependant = link.dependant
        if dependant.pk in seen or (channel == ContactChannel.SMS and dependant.phone):
            continue
        seen.add(dependant.pk)
        found.append(dependant)
    return found


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
    # The guardian whose address this is, for a dependant without one of their own.
    via: Patient | None = None

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
    """Every channel with the address a message to the patient goes to (a guardian's, marked
    `via`, where a dependant has none) and their choices. Four queries."""
    preferences = {p.channel: p for p in ContactPreference.objects.filter(patient=patient)}
    own = {
        ContactChannel.EMAIL: patient.email,
        ContactChannel.SMS: patient.phone,
        ContactChannel.MESSENGER: messenger_chat_of(patient),
    }
    guardian = message_guardian(patient) if not all(own.values()) else None
    lines = []
    for channel in ContactChannel:
        address, via = own[channel], None
        if not address and guardian is not None:
            address = (
                messenger_chat_of(guardian)
                if channel == ContactChannel.MESSENGER
                else _own_address(guardian, channel)
            )
            via = guardian if address else None
        preference = preferences.get(channel.value) or ContactPreference(channel=channel.value)
        note = ""
        if channel == ContactChannel.SMS and address and phone_is_landline(address):
            note = _("This number is a landline: text messages cannot reach it.")
        lines.append(
            ChannelLine(
                channel=channel.value,
                label=str(channel.label),
                address=address,
                care=preference.care,
                marketing=preference.marketing,
                stopped=preference.stopped_at is not None,
                note=note,
                via=via,
            )
        )
    consent = Consent.objects.filter(
        patient=patient, purpose=ConsentPurpose.ADVERTISING, withdrawn_at__isnull=True
    ).exists()
    return ContactOverview(lines=lines, marketing_consent=consent)
