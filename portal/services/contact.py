"""Write paths of how a patient is written to: channel preferences, STOP/START replies and the
Telegram chat link.

Invariants kept here:
- one preference row per patient and channel (also a database constraint); a STOP on a
  channel pauses it whatever its kinds say, and START or turning a kind on in the portal
  resumes it;
- a link code is shown once and stored only as a keyed digest; it expires after
  MESSENGER_LINK_CODE_TTL_MINUTES, is spent by its first use, and a new code replaces the
  patient's unused ones;
- a chat is linked to one patient and a patient to one chat: linking replaces older links;
- every change made from the portal or by a reply writes an audit event (field names only).
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction, ContactChannel, MessageKind
from portal.errors import PortalError
from portal.models import ContactPreference, MessengerLink, MessengerLinkCode, Patient
from portal.models.contact import chat_index
from portal.services.audit import audit_record
from portal.types import Actor

PREFERENCE_OBJECT = "portal.contact_preference"
LINK_OBJECT = "portal.messenger_link"
# Unambiguous letters and digits (no 0/O, 1/I/L), typed from a phone screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class LinkCodeInvalid(PortalError):
    default_message = _("This code is wrong, used or expired. Get a new one in your account.")


# --- Preferences ---------------------------------------------------------------------------


def contact_preferences_set(
    *, actor: Actor, patient: Patient, choices: dict[tuple[str, str], bool]
) -> list[ContactPreference]:
    """Save the patient's on/off choice per (channel, kind); channels not named keep theirs.

    Turning any kind of a channel on clears a STOP received on it: the patient asked for
    messages again where they can read what they asked for.
    """
    changed: list[ContactPreference] = []
    with transaction.atomic():
        for channel in ContactChannel.values:
            kinds = {kind: on for (ch, kind), on in choices.items() if ch == channel}
            if not kinds:
                continue
            preference, _created = ContactPreference.objects.select_for_update().get_or_create(
                patient=patient, channel=channel
            )
            fields = []
            for kind, on in kinds.items():
                if kind not in MessageKind.values:
                    raise ValueError(f"unknown message kind {kind!r}")
                if getattr(preference, kind) != on:
                    setattr(preference, kind, on)
                    fields.append(kind)
            if preference.stopped_at is not None and any(kinds.values()):
                preference.stopped_at = None
                fields.append("stopped_at")
            if fields:
                preference.save(update_fields=[*fields, "updated_at"])
                changed.append(preference)
        if changed:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type=PREFERENCE_OBJECT,
                object_id=str(patient.public_id),
                patient_ids=[patient.public_id],
                changed_fields=sorted({f"{p.channel}" for p in changed}),
            )
    return changed


def contact_channel_stop(*, patients: list[Patient], channel: str) -> int:
    """A STOP reply on `channel`: pause it for each patient the sender matched; returns how
    many were paused now (already stopped ones are left as they are)."""
    return _set_stopped(patients=patients, channel=channel, stopped=True)


def contact_channel_start(*, patients: list[Patient], channel: str) -> int:
    """A START reply on `channel`: resume it for each matched patient (the kinds they chose
    in the portal apply again); returns how many were resumed."""
    return _set_stopped(patients=patients, channel=channel, stopped=False)


def _set_stopped(*, patients: list[Patient], channel: str, stopped: bool) -> int:
    if channel not in ContactChannel.values:
        raise ValueError(f"unknown channel {channel!r}")
    count = 0
    with transaction.atomic():
        for patient in patients:
            preference, _created = ContactPreference.objects.select_for_update().get_or_create(
                patient=patient, channel=channel
            )
            if (preference.stopped_at is not None) == stopped:
                continue
            preference.stopped_at = timezone.now() if stopped else None
            preference.save(update_fields=["stopped_at", "updated_at"])
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type=PREFERENCE_OBJECT,
                object_id=str(patient.public_id),
                patient_ids=[patient.public_id],
                changed_fields=[f"{channel}.stopped_at"],
            )
            count += 1
    return count


# --- Telegram link -------------------------------------------------------------------------


def _code_digest(code: str) -> str:
    normal = code.strip().upper().replace("-", "").replace(" ", "")
    return salted_hmac("portal.messenger_link_code", normal, algorithm="sha256").hexdigest()


def messenger_link_code_issue(*, actor: Actor, patient: Patient) -> tuple[str, datetime.datetime]:
    """A new one-time code for `patient` and when it expires; unused older codes are dropped.
    The code itself is returned once and never stored."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = timezone.now() + datetime.timedelta(
        minutes=settings.MESSENGER_LINK_CODE_TTL_MINUTES
    )
    with transaction.atomic():
        MessengerLinkCode.objects.filter(patient=patient, used_at__isnull=True).delete()
        MessengerLinkCode.objects.create(
            patient=patient, code_digest=_code_digest(code), expires_at=expires_at
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="portal.messenger_link_code",
            object_id=str(patient.public_id),
            patient_ids=[patient.public_id],
        )
    return code, expires_at


def messenger_link_by_code(*, code: str, chat_id: str) -> Patient:
    """Link the Telegram chat `chat_id` to the patient whose code this is, spending the code.

    Raises `LinkCodeInvalid` for a code that is unknown, spent or expired (nothing changes).
    The chat's older link (to anyone) and the patient's older chat are replaced.
    """
    if not code or len(code) > 64:
        raise LinkCodeInvalid
    now = timezone.now()
    with transaction.atomic():
        entry = (
            MessengerLinkCode.objects.select_for_update()
            .select_related("patient")
            .filter(code_digest=_code_digest(code), used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if entry is None or entry.patient.anonymised_at is not None:
            raise LinkCodeInvalid
        entry.used_at = now
        entry.save(update_fields=["used_at"])
        patient = entry.patient
        index = chat_index(chat_id)
        MessengerLink.objects.filter(chat_bidx=index).exclude(patient=patient).delete()
        MessengerLink.objects.update_or_create(
            patient=patient, defaults={"chat_id": str(chat_id), "chat_bidx": index}
        )
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            object_type=LINK_OBJECT,
            object_id=str(patient.public_id),
            patient_ids=[patient.public_id],
            changed_fields=["chat_id"],
        )
    return patient


def messenger_unlink(*, actor: Actor, patient: Patient) -> bool:
    """Forget the patient's Telegram chat; False when none was linked."""
    with transaction.atomic():
        deleted, _details = MessengerLink.objects.filter(patient=patient).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                object_type=LINK_OBJECT,
                object_id=str(patient.public_id),
                patient_ids=[patient.public_id],
                changed_fields=["chat_id"],
            )
    return bool(deleted)
