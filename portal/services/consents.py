"""Write paths of consents: signing (optionally with an SMS code) and withdrawal.

Invariants kept here:
- a patient holds at most one active consent per purpose (also a database constraint);
- every consent records the exact text signed (version and SHA-256), who signed (the patient or
  a legal representative with a valid family link), how, and from which IP and user agent;
- an SMS-code signature is recorded only after its code was checked;
- every signature and withdrawal writes an audit event;
- every signature and withdrawal sends `portal.signals.consent_changed` inside its transaction
  (the CRM's activity facts keep the consent to advertising in step).
"""

from __future__ import annotations

import datetime
import secrets
from typing import NotRequired, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from portal import permissions, request_context
from portal.choices import (
    AuditAction,
    ConsentChannel,
    ConsentPurpose,
    SignatureMethod,
    SignerKind,
)
from portal.errors import PortalError
from portal.messaging import hand_over_message
from portal.models import Consent, FamilyLink, Patient
from portal.normalize import format_phone
from portal.selectors.consents import current_document
from portal.services.audit import audit_record
from portal.services.code_limits import (
    CodeLimitReached,
    CodeTarget,
    code_guess_check,
    code_guess_failed,
    code_guess_passed,
    code_send,
    code_target,
    person_of,
)
from portal.signals import consent_changed
from portal.types import Actor

OBJECT_TYPE = "portal.consent"
CODE_LENGTH = 6
CODE_TTL = datetime.timedelta(minutes=10)
CODE_RESEND_AFTER = datetime.timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5


class ConsentError(PortalError):
    """A consent rule was broken; `message` is a translated sentence for the user."""

    default_message = _("The consent could not be changed.")


class ConsentAlreadyActive(ConsentError):
    default_message = _("This consent is already signed.")


class ConsentNotActive(ConsentError):
    default_message = _("This consent is not active, so there is nothing to withdraw.")


class ConsentDocumentMissing(ConsentError):
    default_message = _("No text of this consent is published yet.")


class RepresentativeNotAllowed(ConsentError):
    default_message = _("Only a legal representative with a valid family link may sign.")


class SignatureNotAllowed(ConsentError):
    default_message = _("This way of signing is not allowed here.")


class CodeError(ConsentError):
    default_message = _("The code is wrong. Check the SMS and try again.")


class CodeExpired(CodeError):
    default_message = _("The code has expired. Request a new one.")


class CodeAttemptsExceeded(CodeError):
    default_message = _("Too many wrong codes. Request a new one.")


class CodeResendTooSoon(CodeError):
    default_message = _("A code was sent less than a minute ago. Please wait a little.")


class CodeLimited(CodeError):
    """The signer's phone or person reached a code limit shared with sign-in codes
    (`portal.services.code_limits`); the message says when to try again."""

    default_message = _("Too many codes. Please wait a few minutes and try again.")


class NoPhone(ConsentError):
    default_message = _("There is no phone number in the profile to send a code to.")


# --- SMS code (simple e-signature) ----------------------------------------------------------


class CodeChallenge(TypedDict):
    """What the session keeps of a sent code: a keyed digest, never the code itself, and the
    keyed digests its limits are counted under (`code_limits.CodeTarget`)."""

    patient: str
    purpose: str
    digest: str
    sent_at: str
    expires_at: str
    attempts: int
    to: str
    target: NotRequired[list[str]]


def _code_digest(*, patient: Patient, purpose: str, code: str) -> str:
    # Keyed (SECRET_KEY) and bound to the patient and purpose: a code for one consent cannot
    # sign another, and the session never holds the code itself.
    material = f"{patient.public_id}|{purpose}|{code}"
    return salted_hmac("portal.consent_code", material, algorithm="sha256").hexdigest()


def consent_code_send(
    *,
    actor: Actor,
    patient: Patient,
    purpose: str,
    signer: Patient,
    previous: CodeChallenge | None = None,
) -> CodeChallenge:
    """Send a 6-digit code by SMS to `signer` and return the challenge to keep in the session.

    The challenge holds only a keyed digest of the code, its expiry and an attempt counter.
    A new code is refused within a minute of the previous one (SMS cost, flooding).
    """
    _check_purpose(purpose)
    if not signer.phone:
        raise NoPhone
    now = timezone.now()
    if previous and previous.get("patient") == str(patient.public_id):
        sent_at = _parse_time(previous.get("sent_at"))
        if sent_at and now - sent_at < CODE_RESEND_AFTER and previous.get("purpose") == purpose:
            raise CodeResendTooSoon
    try:
        code_send(target=_code_target(patient=patient, signer=signer))
    except CodeLimitReached as exc:
        raise CodeLimited(exc.message) from exc
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    language = signer.preferred_language or translation.get_language() or "ru"
    with translation.override(language):
        # A fallback text until a message template for this event exists.
        text = _("Medfront: your signing code is %(code)s. Do not share it.") % {"code": code}
    with transaction.atomic():
        hand_over_message(
            event="consent.sign_code",
            channel="sms",
            patient=signer,
            language=language,
            context={"code": code, "text": str(text)},
        )
    return {
        "patient": str(patient.public_id),
        "purpose": purpose,
        "digest": _code_digest(patient=patient, purpose=purpose, code=code),
        "sent_at": now.isoformat(),
        "expires_at": (now + CODE_TTL).isoformat(),
        "attempts": 0,
        "to": _masked(signer.phone),
        "target": _code_target(patient=patient, signer=signer).as_list(),
    }


def _code_target(*, patient: Patient, signer: Patient) -> CodeTarget:
    # The signer's phone and both people: a guardian signing for each child in turn shares
    # one allowance with their own sign-in codes.
    return code_target(
        address=signer.phone,
        people=[person_of(patient=signer), person_of(patient=patient)],
    )


def consent_code_check(
    *, challenge: CodeChallenge | None, patient: Patient, purpose: str, code: str
) -> None:
    """Raise a CodeError unless `code` answers `challenge`; counts attempts in `challenge`."""
    if not challenge or challenge.get("patient") != str(patient.public_id):
        raise CodeExpired
    if challenge.get("purpose") != purpose:
        raise CodeExpired
    expires_at = _parse_time(challenge.get("expires_at"))
    if expires_at is None or timezone.now() > expires_at:
        raise CodeExpired
    if challenge.get("attempts", 0) >= CODE_MAX_ATTEMPTS:
        raise CodeAttemptsExceeded
    target = CodeTarget.from_list(challenge.get("target"))
    if target is not None:
        try:
            code_guess_check(target=target)
        except CodeLimitReached as exc:
            raise CodeLimited(exc.message) from exc
    challenge["attempts"] = challenge.get("attempts", 0) + 1
    code = "".join((code or "").split())
    expected = challenge.get("digest", "")
    right = (
        code.isdigit()
        and len(code) == CODE_LENGTH
        and constant_time_compare(
            _code_digest(patient=patient, purpose=purpose, code=code), expected
        )
    )
    if target is not None:
        # Counted with sign-in and phone codes: a new consent code brings no fresh guesses.
        (code_guess_passed if right else code_guess_failed)(target=target)
    if not right:
        if challenge["attempts"] >= CODE_MAX_ATTEMPTS:
            raise CodeAttemptsExceeded
        raise CodeError


def _masked(phone: str) -> str:
    shown = format_phone(phone)
    digits_seen = 0
    masked = []
    # Keep the country code and the last two digits; hide the rest.
    total_digits = sum(ch.isdigit() for ch in shown)
    for ch in shown:
        if ch.isdigit():
            digits_seen += 1
            hidden = 1 < digits_seen <= total_digits - 2
            masked.append("•" if hidden else ch)
        else:
            masked.append(ch)
    return "".join(masked)


def _parse_time(value: str | None) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- Signing and withdrawal ---------------------------------------------------------------


def _check_purpose(purpose: str) -> None:
    if purpose not in ConsentPurpose.values:
        raise ConsentError(_("Unknown consent purpose."))


def representative_link(*, representative: Patient, patient: Patient) -> FamilyLink | None:
    """The valid family link that lets `representative` act for `patient`, if any."""
    today = timezone.localdate()
    return (
        FamilyLink.objects.filter(guardian=representative, dependant=patient)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .first()
    )


def _signer(*, patient: Patient, signer_kind: str, representative: Patient | None) -> Patient:
    if signer_kind == SignerKind.PATIENT:
        if representative is not None:
            raise RepresentativeNotAllowed(
                _("A patient signing for themselves has no representative.")
            )
        return patient
    if signer_kind != SignerKind.REPRESENTATIVE or representative is None:
        raise RepresentativeNotAllowed
    if representative.pk == patient.pk or not representative_link(
        representative=representative, patient=patient
    ):
        raise RepresentativeNotAllowed
    return representative


def _check_method(*, actor: Actor, signer: Patient, channel: str, signature_method: str) -> None:
    if channel not in ConsentChannel.values or signature_method not in SignatureMethod.values:
        raise SignatureNotAllowed
    if signature_method == SignatureMethod.ACCOUNT_CONFIRMATION:
        # Confirmation in an account is the signer's own signed-in session, nobody else's.
        allowed = actor is not None and signer.user_id is not None and signer.user_id == actor.pk
    elif signature_method == SignatureMethod.HANDWRITTEN:
        # A paper form is accepted only by staff who may change patient profiles.
        allowed = channel in (ConsentChannel.DESK, ConsentChannel.PAPER) and (
            permissions.has_capability(actor, "patient.update")
        )
    else:
        allowed = True
    if not allowed:
        raise SignatureNotAllowed


@transaction.atomic
def consent_sign(
    *,
    actor: Actor,
    patient: Patient,
    purpose: str,
    signer_kind: str,
    representative: Patient | None = None,
    channel: str,
    signature_method: str,
    language: str,
    code_challenge: CodeChallenge | None = None,
    code: str = "",
) -> Consent:
    """Sign the current text of `purpose` for `patient` and audit it.

    An active consent on an older version is closed and replaced; one on the same version is
    a ConsentAlreadyActive error.
    With `SignatureMethod.SMS_CODE` the `code` must answer `code_challenge` (from
    `consent_code_send`). Raises a ConsentError subclass and saves nothing when a rule fails.
    """
    _check_purpose(purpose)
    signer = _signer(patient=patient, signer_kind=signer_kind, representative=representative)
    _check_method(actor=actor, signer=signer, channel=channel, signature_method=signature_method)
    if signature_method == SignatureMethod.SMS_CODE:
        consent_code_check(challenge=code_challenge, patient=patient, purpose=purpose, code=code)
    document = current_document(purpose=purpose, language=language)
    if document is None:
        raise ConsentDocumentMissing
    now = timezone.now()
    active = (
        Consent.objects.select_for_update()
        .filter(patient=patient, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    if active is not None:
        if active.document_version == document.version:
            raise ConsentAlreadyActive
        # Signing a newer text replaces the older signature in the same transaction.
        active.withdrawn_at = now
        active.withdrawal_channel = channel
        active.save(update_fields=["withdrawn_at", "withdrawal_channel", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=OBJECT_TYPE,
            object_id=active.public_id,
            patient_ids=[patient.public_id],
            changed_fields=["withdrawn_at", "withdrawal_channel"],
        )
    ctx = request_context.current()
    try:
        # A savepoint, so a concurrent signature losing the constraint race leaves the outer
        # transaction usable and becomes the same clean error as the check above.
        with transaction.atomic():
            consent = Consent.objects.create(
                patient=patient,
                purpose=purpose,
                document=document,
                document_version=document.version,
                document_sha256=document.sha256,
                signer_kind=signer_kind,
                representative=representative if signer_kind == SignerKind.REPRESENTATIVE else None,
                channel=channel,
                signature_method=signature_method,
                signed_at=now,
                ip_address=ctx.ip_address,
                user_agent=ctx.user_agent,
            )
    except IntegrityError as exc:
        raise ConsentAlreadyActive from exc
    patient_ids = [patient.public_id] + ([signer.public_id] if signer.pk != patient.pk else [])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=consent.public_id,
        patient_ids=patient_ids,
        changed_fields=["purpose", "document_version", "signer_kind", "signature_method"],
    )
    consent_changed.send(sender=Consent, patient_id=patient.pk, purpose=purpose)
    return consent


@transaction.atomic
def consent_withdraw(*, actor: Actor, patient: Patient, purpose: str, channel: str) -> Consent:
    """Withdraw the active consent of `purpose` (one click); the row is kept and audited.

    Raises ConsentNotActive when there is nothing to withdraw (e.g. a second click).
    """
    _check_purpose(purpose)
    if channel not in ConsentChannel.values:
        raise SignatureNotAllowed
    consent = (
        Consent.objects.select_for_update()
        .filter(patient=patient, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    if consent is None:
        raise ConsentNotActive
    consent.withdrawn_at = timezone.now()
    consent.withdrawal_channel = channel
    consent.save(update_fields=["withdrawn_at", "withdrawal_channel", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=consent.public_id,
        patient_ids=[patient.public_id],
        changed_fields=["withdrawn_at", "withdrawal_channel"],
    )
    consent_changed.send(sender=Consent, patient_id=patient.pk, purpose=purpose)
    return consent
