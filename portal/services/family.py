"""Write paths of family links: a guardian account that manages dependants' profiles.

Invariants kept here:
- a link always names a relation and a legal basis from the choices, and is never to oneself;
- a parent-of-a-minor link needs the child's date of birth, refuses an adult and, unless told
  otherwise, ends on the day before the 18th birthday;
- a patient may only create a new profile for a dependant; linking an existing profile is a
  front-desk act (it needs `patient.update`), so nobody can attach a stranger's record;
- a guardian never gets a second new profile for a dependant already on their list (same
  name and birth date): a repeated form post must not split one child's records in two;
- every link and unlink writes an audit event naming both patients.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal import permissions
from portal.choices import AuditAction, FamilyRelation, LegalBasis
from portal.errors import PortalError
from portal.models import FamilyLink, Patient
from portal.models.patients import name_birth_index
from portal.services.audit import audit_record
from portal.services.patients import clean_patient_fields, patient_create
from portal.types import Actor

OBJECT_TYPE = "portal.family_link"
ADULT_AGE = 18
BASIS_DOCUMENT_MAX = 200


class FamilyError(PortalError):
    """A family rule was broken; `message` is a translated sentence for the user."""

    default_message = _("The family link could not be changed.")


class AlreadyLinked(FamilyError):
    default_message = _("This person is already in your family list.")


class NotLinked(FamilyError):
    default_message = _("This person is not in the family list.")


def majority_date(birth_date: datetime.date) -> datetime.date:
    """The 18th birthday (29 February births come of age on 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:
        return datetime.date(birth_date.year + ADULT_AGE, 3, 1)


def _clean_link(
    *,
    relation: str,
    legal_basis: str,
    basis_document: str | None,
    valid_until: datetime.date | str | None,
    birth_date: datetime.date | None,
) -> tuple[dict[str, Any], dict[str, list[StrOrPromise]]]:
    errors: dict[str, list[StrOrPromise]] = {}
    cleaned: dict[str, Any] = {}
    if relation not in FamilyRelation.values:
        errors["relation"] = [_("Choose one of the listed values.")]
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = [_("Choose one of the listed values.")]
    basis_document = (basis_document or "").strip()
    if len(basis_document) > BASIS_DOCUMENT_MAX:
        errors["basis_document"] = [
            _("Use at most %(limit)d characters.") % {"limit": BASIS_DOCUMENT_MAX}
        ]
    cleaned["basis_document"] = basis_document
    # A blank string means no end date, like None.
    until: datetime.date | None = None
    if isinstance(valid_until, str):
        if valid_until.strip():
            try:
                until = datetime.date.fromisoformat(valid_until.strip())
            except ValueError:
                errors["valid_until"] = [_("Enter a date as YYYY-MM-DD.")]
    elif valid_until:
        until = valid_until
    today = timezone.localdate()
    if until is not None and until < today:
        errors["valid_until"] = [_("The end date cannot be in the past.")]
    if legal_basis == LegalBasis.PARENT_OF_MINOR and "legal_basis" not in errors:
        if birth_date is None:
            errors["birth_date"] = [_("Enter the child's date of birth.")]
        elif majority_date(birth_date) <= today:
            errors["legal_basis"] = [
                _("The dependant is an adult: choose guardianship, a power of attorney or consent.")
            ]
        elif until is None:
            until = majority_date(birth_date) - datetime.timedelta(days=1)
    cleaned["valid_until"] = until
    return cleaned, errors


@transaction.atomic
def family_add_dependant(
    *,
    actor: Actor,
    guardian: Patient,
    relation: str,
    legal_basis: str,
    basis_document: str = "",
    valid_until: datetime.date | str | None = None,
    dependant: Patient | None = None,
    **profile_fields: Any,
) -> FamilyLink:
    """Link a dependant to `guardian`: a new profile from `profile_fields`, or `dependant`.

    Raises ValidationError naming every bad field (nothing is saved), PermissionDenied when a
    non-staff actor tries to link an existing profile, AlreadyLinked for a repeated link.
    """
    if dependant is not None:
        if profile_fields:
            raise ValidationError({name: _("Unknown field.") for name in sorted(profile_fields)})
        if not permissions.has_capability(actor, "patient.update"):
            raise PermissionDenied
        if dependant.pk == guardian.pk:
            raise ValidationError({"__all__": [_("A person cannot be their own dependant.")]})
        birth_date = dependant.birth_date
        profile_errors: dict[str, list[str]] = {}
    else:
        try:
            cleaned_profile = clean_patient_fields(profile_fields)
            profile_errors = {}
        except ValidationError as exc:
            cleaned_profile = {}
            profile_errors = exc.message_dict
        birth_date = cleaned_profile.get("birth_date")
    link_fields, link_errors = _clean_link(
        relation=relation,
        legal_basis=legal_basis,
        basis_document=basis_document,
        valid_until=valid_until,
        birth_date=birth_date,
    )
    # A field's own error (e.g. a future birth date) beats what the link rules derive from it.
    errors = {**link_errors, **profile_errors}
    if errors:
        raise ValidationError(errors)
    if dependant is None:
        # Lock the guardian so two quick posts of the same form cannot both pass the check.
        Patient.objects.select_for_update().filter(pk=guardian.pk).first()
        if (
            birth_date
            and FamilyLink.objects.filter(
                guardian=guardian,
                dependant__name_birth_bidx=name_birth_index(
                    cleaned_profile["last_name"], cleaned_profile["first_name"], birth_date
                ),
            ).exists()
        ):
            raise AlreadyLinked
        if not cleaned_profile.get("home_clinic"):
            cleaned_profile["home_clinic"] = guardian.home_clinic
        dependant = patient_create(actor=actor, **cleaned_profile)
    elif FamilyLink.objects.filter(guardian=guardian, dependant=dependant).exists():
        raise AlreadyLinked
    try:
        with transaction.atomic():
            link = FamilyLink.objects.create(
                guardian=guardian,
                dependant=dependant,
                relation=relation,
                legal_basis=legal_basis,
                **link_fields,
            )
    except IntegrityError as exc:
        raise AlreadyLinked from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=link.pk,
        patient_ids=[guardian.public_id, dependant.public_id],
        changed_fields=[
            "relation",
            "legal_basis",
            *(["basis_document"] if link.basis_document else []),
            *(["valid_until"] if link.valid_until else []),
        ],
    )
    return link


@transaction.atomic
def family_unlink(*, actor: Actor, guardian: Patient, dependant: Patient) -> None:
    """Remove the link; both profiles stay (medical records are kept). Audited.

    The guardian themselves or staff with `patient.update` may unlink.
    """
    is_guardian = (
        actor is not None and guardian.user_id is not None and guardian.user_id == actor.pk
    )
    if not (is_guardian or permissions.has_capability(actor, "patient.update")):
        raise PermissionDenied
    link = (
        FamilyLink.objects.select_for_update()
        .filter(guardian=guardian, dependant=dependant)
        .first()
    )
    if link is None:
        raise NotLinked
    link_id = link.pk
    link.delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type=OBJECT_TYPE,
        object_id=link_id,
        patient_ids=[guardian.public_id, dependant.public_id],
    )
