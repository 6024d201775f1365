"""Write paths of the shared patient profile. Every create and change is audited."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal.choices import AuditAction, IdDocumentType, Sex
from portal.crypto import blind_index
from portal.models import Clinic, Patient, User
from portal.models.patients import BIDX_EMAIL, BIDX_PHONE, name_birth_index
from portal.normalize import clean_name, normalize_email, normalize_phone
from portal.services.audit import audit_record
from portal.types import Actor
from portal.validators import validate_birth_date, validate_oms_policy, validate_snils

OBJECT_TYPE = "portal.patient"
EDITABLE_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address",
    "id_document_type",
    "id_document_number",
    "oms_policy",
    "dms_policy",
    "dms_insurer",
    "snils",
    "notes",
    "home_clinic",
    "preferred_language",
)
_MAX_LENGTHS = {
    "last_name": 100,
    "first_name": 100,
    "middle_name": 100,
    "address": 500,
    "id_document_number": 40,
    "dms_policy": 40,
    "dms_insurer": 120,
    "notes": 2000,
}


def clean_patient_fields(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Normalise and validate profile values; raise one ValidationError naming every bad field.

    Unknown keys are refused rather than ignored, so a typo never silently drops data.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    errors: dict[str, Sequence[StrOrPromise]] = {}
    cleaned: dict[str, Any] = {}
    for name, raw in data.items():
        value = raw.strip() if isinstance(raw, str) else raw
        try:
            cleaned[name] = _clean_one(name, value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if not partial:
        for required in ("last_name", "first_name"):
            if not cleaned.get(required) and required not in errors:
                errors[required] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


# Non-text fields; every other editable field takes a string.
_NON_TEXT_FIELDS = ("birth_date", "home_clinic")
# C0 controls (NUL among them: PostgreSQL text refuses it) and DEL; tabs and newlines are
# allowed in free text only.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MULTILINE_FIELDS = ("address", "notes")


def _clean_one(name: str, value: Any) -> Any:
    if value in (None, ""):
        if name in ("last_name", "first_name"):
            raise ValidationError(_("This field is required."), code="required")
        return None if name in _NON_TEXT_FIELDS else ""
    if name not in _NON_TEXT_FIELDS:
        if not isinstance(value, str):
            raise ValidationError(_("Enter text."), code="invalid")
        if _CONTROL_CHARS.search(value) or (
            name not in _MULTILINE_FIELDS and ("\n" in value or "\r" in value or "\t" in value)
        ):
            raise ValidationError(_("Remove control characters."), code="invalid")
    if name in _MAX_LENGTHS and len(str(value)) > _MAX_LENGTHS[name]:
        raise ValidationError(
            _("Use at most %(limit)d characters."), params={"limit": _MAX_LENGTHS[name]}
        )
    if name == "phone":
        return normalize_phone(value)
    if name == "email":
        return normalize_email(value)
    if name == "birth_date":
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from exc
        elif isinstance(value, datetime.datetime):
            value = value.date()
        elif not isinstance(value, datetime.date):
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
        return validate_birth_date(value)
    if name == "home_clinic":
        return _clean_clinic(value)
    if name == "preferred_language" and value not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose one of the listed values."), code="invalid_choice")
    if name == "sex" and value not in Sex.values:
        raise ValidationError(_("Choose one of the listed values."), code="invalid_choice")
    if name == "id_document_type" and value not in IdDocumentType.values:
        raise ValidationError(_("Choose one of the listed values."), code="invalid_choice")
    if name == "snils":
        return validate_snils(value)
    if name == "oms_policy":
        return validate_oms_policy(value)
    if name in ("last_name", "first_name", "middle_name"):
        # Invisible characters go: they would make a name that looks the same another one.
        cleaned_name = clean_name(str(value))
        if not cleaned_name and name != "middle_name":
            raise ValidationError(_("This field is required."), code="required")
        return cleaned_name
    return value


def _clean_clinic(value: Any) -> Clinic:
    """A Clinic, or the primary key of an active one."""
    if isinstance(value, Clinic):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        clinic = Clinic.objects.filter(pk=value, is_active=True).first()
        if clinic is not None:
            return clinic
    raise ValidationError(_("Choose one of the listed values."), code="invalid_choice")


def patient_find_duplicates(
    *,
    phone: str = "",
    email: str = "",
    last_name: str = "",
    first_name: str = "",
    birth_date: datetime.date | None = None,
    exclude: Patient | None = None,
) -> list[Patient]:
    """Existing profiles that share a normalised phone, e-mail, or name + date of birth."""
    condition = Q()
    if phone:
        condition |= Q(phone_bidx=blind_index(BIDX_PHONE, phone))
    if email:
        condition |= Q(email_bidx=blind_index(BIDX_EMAIL, email))
    if last_name and first_name and birth_date:
        condition |= Q(name_birth_bidx=name_birth_index(last_name, first_name, birth_date))
    if not condition:
        return []
    qs = Patient.objects.filter(condition, anonymised_at__isnull=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs[:10])


@transaction.atomic
def patient_create(
    *, actor: Actor, user: User | None = None, created_by: User | None = None, **fields: Any
) -> Patient:
    """Create a profile from validated values and audit it (field names only, no values)."""
    cleaned = clean_patient_fields(fields)
    patient = Patient(user=user, created_by=created_by or _user_or_none(actor), **cleaned)
    patient.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=patient.public_id,
        patient_ids=[patient.public_id],
        changed_fields=[name for name, value in cleaned.items() if value not in ("", None)],
    )
    return patient


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, **changes: Any) -> Patient:
    """Apply validated changes; audit the names of the fields that really changed.

    Changing the phone clears its verification: codes must never go to an unproven number.
    """
    cleaned = clean_patient_fields(changes, partial=True)
    changed = [name for name, value in cleaned.items() if getattr(patient, name) != value]
    if not changed:
        return patient
    for name in changed:
        setattr(patient, name, cleaned[name])
    saved = [*changed, "updated_at"]
    if "phone" in changed and patient.phone_verified_at is not None:
        # A new number is unverified until a code sent to it comes back (sign-in, signing).
        patient.phone_verified_at = None
        saved.append("phone_verified_at")
    patient.save(update_fields=saved)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=patient.public_id,
        patient_ids=[patient.public_id],
        changed_fields=changed,
    )
    return patient


def _user_or_none(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None
