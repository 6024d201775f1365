"""Write paths that tie a login to the shared patient profile.

Invariants kept here:

* a login has zero or one Patient (`Patient.user` is one-to-one) and staff logins have none;
* a card created by a registrar is linked to a login only after the login proved it holds the
  card's phone (SMS code) or e-mail (confirmation link), and only when that value matches
  exactly one card, which has no login yet: an ambiguous match (a family sharing a phone, a
  duplicate card) links nothing;
* phones live only on the Patient profile, encrypted, in E.164 (`normalize_phone`), found
  through the blind index; a changed phone is unverified until a code proves it;
* every link and phone change is audited (field names only, never values).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal.auth.policy import is_staff_login
from portal.choices import PATIENT_ROLE, AuditAction
from portal.crypto import blind_index
from portal.models import Patient, User
from portal.models.patients import BIDX_EMAIL, BIDX_PHONE
from portal.normalize import normalize_email, normalize_phone
from portal.services.audit import audit_record
from portal.services.patients import OBJECT_TYPE, patient_create, patient_update
from portal.types import RequestUser

# Fields the onboarding page may set; the e-mail comes from the verified login.
ONBOARDING_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "phone",
    "home_clinic",
)


def account_language_set(*, user: User, language: str) -> None:
    """Save `language` (one of LANGUAGES; anything else is ignored) as the account's own: the
    pages' language at each sign-in."""
    if language not in dict(settings.LANGUAGES) or user.preferred_language == language:
        return
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])


class AccountError(Exception):
    """A request about the caller's own account that cannot be honoured."""

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(str(message))
        self.message = message


def own_patient(user: RequestUser) -> Patient | None:
    """The user's own profile, read fresh (not the cached `user.patient`)."""
    if not isinstance(user, User):
        return None  # Nobody is signed in.
    return Patient.objects.filter(user_id=user.pk, anonymised_at__isnull=True).first()


def _claim(*, user: User, candidates: list[Patient], proof: str) -> Patient | None:
    """Link the single unclaimed candidate to `user`; None when that is not clear-cut."""
    if len(candidates) != 1 or is_staff_login(user):
        return None
    if Patient.objects.filter(user_id=user.pk).exists():
        return None
    card = candidates[0]
    now = timezone.now()
    changes = {"user": user, "updated_at": now}
    if proof == "phone":
        changes["phone_verified_at"] = now
    # Compare-and-set: of two logins racing for the same card only one update matches.
    linked = Patient.objects.filter(pk=card.pk, user__isnull=True).update(**changes)
    if not linked:
        return None
    audit_record(
        actor=user,
        role=PATIENT_ROLE,
        action=AuditAction.CLAIM,
        object_type=OBJECT_TYPE,
        object_id=card.public_id,
        patient_ids=[card.public_id],
        changed_fields=[name for name in changes if name != "updated_at"],
    )
    card.refresh_from_db()
    return card


def _matching_cards(field: str, digest: str) -> list[Patient]:
    # Three rows are enough to tell "exactly one" from "several".
    return list(
        Patient.objects.select_for_update()
        .filter(**{field: digest}, anonymised_at__isnull=True)
        .order_by("pk")[:3]
    )


@transaction.atomic
def patient_claim_by_verified_phone(*, user: User, phone: str) -> Patient | None:
    """Link the one card carrying `phone` to `user`, who has just proved holding it.

    Links nothing (returns None) when the user already has a profile or is staff, when no card
    or several cards carry the phone, or when the only card already has a login.
    """
    try:
        e164 = normalize_phone(phone)
    except ValidationError:
        return None
    cards = _matching_cards("phone_bidx", blind_index(BIDX_PHONE, e164))
    return _claim(user=user, candidates=cards, proof="phone")


@transaction.atomic
def patient_claim_by_verified_email(*, user: User, email: str) -> Patient | None:
    """Link the one card carrying `email` to `user`, whose address has just been confirmed.

    Same rules as `patient_claim_by_verified_phone`.
    """
    try:
        normalized = normalize_email(email)
    except ValidationError:
        return None
    cards = _matching_cards("email_bidx", blind_index(BIDX_EMAIL, normalized))
    return _claim(user=user, candidates=cards, proof="email")


@transaction.atomic
def account_phone_set(*, user: User, phone: str, verified: bool) -> Patient | None:
    """Put `phone` on the user's own profile; returns None when the user has no profile.

    A new number starts unverified unless `verified`; the change itself is audited by
    `patient_update`.
    """
    patient = own_patient(user)
    if patient is None:
        return None
    e164 = normalize_phone(phone)
    if patient.phone != e164:
        patient = patient_update(actor=user, patient=patient, phone=e164)
        patient.phone_verified_at = timezone.now() if verified else None
    elif verified and patient.phone_verified_at is None:
        patient.phone_verified_at = timezone.now()
    else:
        return patient
    patient.save(update_fields=["phone_verified_at", "updated_at"])
    return patient


@transaction.atomic
def account_phone_verified(*, user: User, phone: str) -> Patient | None:
    """The user proved holding `phone` (SMS code).

    With a profile: the phone becomes the profile's verified phone. Without one: the card that
    carries the phone is claimed if that is clear-cut. Returns the profile, or None when the
    user still has none (the caller may remember the verified phone for onboarding).
    """
    if own_patient(user) is not None:
        return account_phone_set(user=user, phone=phone, verified=True)
    return patient_claim_by_verified_phone(user=user, phone=phone)


@transaction.atomic
def patient_onboard(
    *, user: User, email: str = "", verified_phone: str = "", **fields: Any
) -> Patient:
    """Create the signed-in user's own profile from the onboarding form.

    Staff logins and users who already have a profile are refused (`AccountError`); bad values
    raise `ValidationError` naming the fields, and nothing is written. The phone counts as
    verified only when it equals `verified_phone`, a number the user proved by SMS code in
    this session.
    """
    if is_staff_login(user):
        raise AccountError(_("Staff accounts have no patient profile."))
    if Patient.objects.select_for_update().filter(user_id=user.pk).exists():
        raise AccountError(_("Your profile already exists."))
    unknown = set(fields) - set(ONBOARDING_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    values = {name: value for name, value in fields.items() if value not in (None, "")}
    if email:
        values["email"] = email
    patient = patient_create(actor=user, user=user, **values)
    if verified_phone and patient.phone and patient.phone == _e164_or_blank(verified_phone):
        patient.phone_verified_at = timezone.now()
        patient.save(update_fields=["phone_verified_at", "updated_at"])
    return patient


def _e164_or_blank(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError:
        return ""
