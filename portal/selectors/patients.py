"""Read paths of the shared patient profile. Staff reads are audited here, in the selector,
so no page or endpoint can return patients without leaving a trace."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import AuditAction
from portal.crypto import blind_index
from portal.models import Patient
from portal.models.patients import (
    BIDX_EMAIL,
    BIDX_PHONE,
    last4_surname_index,
    name_birth_index,
)
from portal.normalize import normalize_email, normalize_phone
from portal.services.audit import audit_record, audit_role_and_clinic

OBJECT_TYPE = "portal.patient"
SEARCH_LIMIT = 20
_QUICK = re.compile(r"^\s*(\d{4})\s+(\S.*)$|^\s*(\S.*?)\s+(\d{4})\s*$")


def parse_quick_query(q: str) -> tuple[str, str]:
    """'1234 Иванов' or 'Иванов 1234' → ('1234', 'Иванов')."""
    match = _QUICK.match(q or "")
    if not match:
        raise ValidationError(
            {"q": [_("Type the last 4 digits of the phone and the surname, e.g. 1234 Ivanov.")]}
        )
    digits = match.group(1) or match.group(4)
    surname = match.group(2) or match.group(3)
    return digits, surname.strip()


def patient_search(
    *,
    user,
    phone: str = "",
    email: str = "",
    name: str = "",
    birth_date: datetime.date | str | None = None,
    q: str = "",
) -> list[Patient]:
    """Exact blind-index search across the network; one audit event names every result.

    Exactly one criterion: a phone, an e-mail, a "Surname Name" with a birth date, or a quick
    query of the last four phone digits and the surname.
    """
    permissions.require_capability(user, "patient.search")
    index_filter = _index_filter(phone=phone, email=email, name=name, birth_date=birth_date, q=q)
    results = list(
        Patient.objects.filter(anonymised_at__isnull=True, **index_filter)
        .select_related("home_clinic")
        .order_by("id")[:SEARCH_LIMIT]
    )
    role, clinic = audit_role_and_clinic(user)
    audit_record(
        actor=user,
        role=role,
        clinic=clinic,
        action=AuditAction.SEARCH,
        object_type=OBJECT_TYPE,
        patient_ids=[p.public_id for p in results],
        changed_fields=sorted(index_filter),
    )
    return results


def _index_filter(*, phone, email, name, birth_date, q) -> dict[str, str]:
    given = [bool(phone), bool(email), bool(name or birth_date), bool(q)]
    if sum(given) != 1:
        raise ValidationError(
            {"__all__": [_("Search by one thing: phone, e-mail, name with birth date, or quick.")]}
        )
    if phone:
        try:
            return {"phone_bidx": blind_index(BIDX_PHONE, normalize_phone(phone))}
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    if email:
        try:
            return {"email_bidx": blind_index(BIDX_EMAIL, normalize_email(email))}
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    if q:
        digits, surname = parse_quick_query(q)
        return {"last4_surname_bidx": last4_surname_index(digits, surname)}
    return {"name_birth_bidx": _name_birth(name, birth_date)}


def _name_birth(name: str, birth_date) -> str:
    errors = {}
    parts = (name or "").split()
    if len(parts) < 2:
        errors["name"] = [_("Type the surname and the first name.")]
    if isinstance(birth_date, str):
        try:
            birth_date = datetime.date.fromisoformat(birth_date)
        except ValueError:
            errors["birth_date"] = [_("Enter a date as YYYY-MM-DD.")]
    if not birth_date:
        errors.setdefault("birth_date", [_("Enter the date of birth.")])
    if errors:
        raise ValidationError(errors)
    return name_birth_index(parts[0], parts[1], birth_date)


def patient_card(*, user, public_id) -> Patient:
    """A patient card for `user` (404 when unknown or not theirs); staff views are audited."""
    patient = permissions.get_patient_for_user(user, public_id, action="view")
    if not permissions.can_act_for_patient(user, patient):
        role, clinic = audit_role_and_clinic(user)
        audit_record(
            actor=user,
            role=role,
            clinic=clinic,
            action=AuditAction.VIEW,
            object_type=OBJECT_TYPE,
            object_id=patient.public_id,
            patient_ids=[patient.public_id],
        )
    return patient
