"""Read paths of the shared patient profile. Staff reads are audited here, in the selector,
so no page or endpoint can return patients without leaving a trace."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from portal import permissions
from portal.choices import AuditAction, ConsentPurpose
from portal.crypto import blind_index
from portal.models import Consent, FamilyLink, Patient
from portal.models.patients import (
    BIDX_EMAIL,
    BIDX_PHONE,
    document_index,
    last4_surname_index,
    name_birth_index,
)
from portal.normalize import normalize_document_number, normalize_email, normalize_phone
from portal.selectors.audit import AuditRow, audit_events_for_patient
from portal.services.audit import audit_record
from portal.services.patients import patient_find_duplicates
from portal.types import RequestUser

OBJECT_TYPE = "portal.patient"
SEARCH_LIMIT = 20
# Shorter digits are no ID document's number (a Russian passport has 10, a foreign one 9).
MIN_DOCUMENT_LENGTH = 6
_QUICK = re.compile(r"^\s*(\d{4})\s+(\S.*)$|^\s*(\S.*?)\s+(\d{4})\s*$")


def parse_quick_query(q: str) -> tuple[str, str]:
    """'1234 Иванов' or 'Иванов 1234' → ('1234', 'Иванов')."""
    match = _QUICK.match(q or "")
    if not match:
        raise ValidationError(
            {"q": [_("Type the last 4 digits of the phone and the surname, e.g. 1234 Ivanov.")]}
        )
    digits = match.group(1) or match.group(4)
    # Only the surname is indexed, and it comes first: "1234 Ivanov Ivan" means Ivanov.
    surname = (match.group(2) or match.group(3)).split()[0]
    return digits, surname


def patient_search(
    *,
    user: RequestUser,
    phone: str = "",
    email: str = "",
    name: str = "",
    birth_date: datetime.date | str | None = None,
    q: str = "",
    document: str = "",
) -> list[Patient]:
    """Exact blind-index search across the network; one audit event names every result.

    Exactly one criterion: a phone, an e-mail, a "Surname Name" with a birth date, a quick
    query of the last four phone digits and the surname, or an ID document number. Digits
    alone may be either a phone or a document number: given the same text as `phone` and
    `document`, both are searched.
    """
    permissions.require_capability(user, "patient.search")
    condition, fields = _index_query(
        phone=phone, email=email, name=name, birth_date=birth_date, q=q, document=document
    )
    results = list(
        Patient.objects.filter(condition, anonymised_at__isnull=True)
        .select_related("home_clinic")
        .order_by("id")[:SEARCH_LIMIT]
    )
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type=OBJECT_TYPE,
        patient_ids=[p.public_id for p in results],
        changed_fields=fields,
    )
    return results


def _index_query(
    *,
    phone: str,
    email: str,
    name: str,
    birth_date: datetime.date | str | None,
    q: str,
    document: str,
) -> tuple[Q, list[str]]:
    """The blind-index condition of one criterion, and the index columns it reads."""
    phone_or_document = bool(phone) and phone == document
    if phone_or_document:
        try:
            condition = Q(phone_bidx=blind_index(BIDX_PHONE, normalize_phone(phone)))
        except ValidationError as exc:
            # Not a phone: a document number, if it is long enough to be one.
            if len(normalize_document_number(document)) < MIN_DOCUMENT_LENGTH:
                raise ValidationError({"phone": exc.messages}) from exc
            condition = Q(pk__in=[])
        if document_index(document):
            condition |= Q(document_bidx=document_index(document))
        return condition, ["document_bidx", "phone_bidx"]
    if document and not (phone or email or name or birth_date or q):
        key = document_index(document)
        if not key:
            raise ValidationError({"document": [_("Type the document number.")]})
        return Q(document_bidx=key), ["document_bidx"]
    found = _index_filter(phone=phone, email=email, name=name, birth_date=birth_date, q=q)
    if document:
        raise ValidationError(
            {"__all__": [_("Search by one thing: phone, e-mail, name with birth date, or quick.")]}
        )
    return Q(**found), sorted(found)


def _index_filter(
    *, phone: str, email: str, name: str, birth_date: datetime.date | str | None, q: str
) -> dict[str, str]:
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


def _name_birth(name: str, birth_date: datetime.date | str | None) -> str:
    errors: dict[str, list[StrOrPromise]] = {}
    parts = (name or "").split()
    if len(parts) < 2:
        errors["name"] = [_("Type the surname and the first name.")]
    born = birth_date if isinstance(birth_date, datetime.date) else None
    if isinstance(birth_date, str):
        try:
            born = datetime.date.fromisoformat(birth_date)
        except ValueError:
            errors["birth_date"] = [_("Enter a date as YYYY-MM-DD.")]
    if born is None:
        errors.setdefault("birth_date", [_("Enter the date of birth.")])
    elif not errors:
        return name_birth_index(parts[0], parts[1], born)
    raise ValidationError(errors)


def patient_card(*, user: RequestUser, public_id: uuid.UUID | str) -> Patient:
    """A patient card for `user` (404 when unknown or not theirs); staff views are audited."""
    patient = permissions.get_patient_for_user(user, public_id, action="view")
    _audit_card_view(user, patient)
    return patient


def _audit_card_view(user: RequestUser, patient: Patient, shown: Iterable[Patient] = ()) -> None:
    """One VIEW event for the card of `patient` naming every patient it shows: the card's own
    and those of `shown` (the family listed on it), so a read of a relative is never missing
    from that relative's trail."""
    # A patient (or guardian) reading their own family's profile is not a staff access.
    if permissions.can_act_for_patient(user, patient):
        return
    audit_record(
        actor=user,
        action=AuditAction.VIEW,
        object_type=OBJECT_TYPE,
        object_id=patient.public_id,
        patient_ids={patient.public_id, *(other.public_id for other in shown)},
    )


@dataclass(frozen=True)
class ConsentLine:
    purpose: str
    label: str
    consent: Consent | None


@dataclass(frozen=True)
class StaffPatientCard:
    """Everything the staff card shows, loaded in a fixed number of queries."""

    patient: Patient
    guardian_links: list[FamilyLink]
    dependant_links: list[FamilyLink]
    consents: list[ConsentLine]
    recent_audit: list[AuditRow]
    can_edit: bool


def staff_patient_card(
    *, user: RequestUser, public_id: uuid.UUID | str, with_audit_trail: bool = True
) -> StaffPatientCard:
    """The staff card of `public_id` (403/404 per `get_patient_for_staff`); the view is audited
    as one event naming the patient and every guardian and dependant the card lists.

    The card's own recent audit trail is included only for holders of `audit.view` (and only
    when `with_audit_trail`: the API card does not show it).
    """
    patient = permissions.get_patient_for_staff(user, public_id, capability="patient.view_card")
    guardian_links = list(
        FamilyLink.objects.filter(dependant=patient, guardian__anonymised_at__isnull=True)
        .select_related("guardian")
        .order_by("pk")
    )
    dependant_links = list(
        FamilyLink.objects.filter(guardian=patient, dependant__anonymised_at__isnull=True)
        .select_related("dependant")
        .order_by("pk")
    )
    _audit_card_view(
        user,
        patient,
        shown=[link.guardian for link in guardian_links]
        + [link.dependant for link in dependant_links],
    )
    active = {
        c.purpose: c
        for c in Consent.objects.filter(patient=patient, withdrawn_at__isnull=True).only(
            "purpose", "document_version", "signed_at", "signer_kind", "channel", "patient_id"
        )
    }
    consents = [
        ConsentLine(purpose, str(label), active.get(purpose))
        for purpose, label in ConsentPurpose.choices
    ]
    return StaffPatientCard(
        patient=patient,
        guardian_links=guardian_links,
        dependant_links=dependant_links,
        consents=consents,
        recent_audit=(
            audit_events_for_patient(user=user, patient=patient) if with_audit_trail else []
        ),
        can_edit=permissions.has_capability(user, "patient.update"),
    )


def patient_for_edit(
    *, user: RequestUser, public_id: uuid.UUID | str, record_view: bool = True
) -> Patient:
    """The patient to edit on a staff page (`patient.update`), its load audited as a view.

    A re-shown form after bad input passes `record_view=False`: bad input writes no audit row.
    """
    patient = permissions.get_patient_for_staff(user, public_id, capability="patient.update")
    if record_view:
        _audit_card_view(user, patient)
    return patient


def patient_duplicates_for_staff(
    *,
    user: RequestUser,
    phone: str = "",
    email: str = "",
    last_name: str = "",
    first_name: str = "",
    birth_date: datetime.date | None = None,
) -> list[Patient]:
    """Possible duplicates shown to staff before a new profile is created.

    Showing them is a list of patients, so it is audited like a search when it finds any.
    Values must already be normalised (`clean_patient_fields`).
    """
    permissions.require_capability(user, "patient.create")
    found = patient_find_duplicates(
        phone=phone,
        email=email,
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
    )
    if found:
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type=OBJECT_TYPE,
            patient_ids=[p.public_id for p in found],
            changed_fields=["duplicates"],
        )
    return found


def phone_blind_index(phone: str) -> str:
    """The blind index of `phone` as patients' phones are indexed ("" when it is no valid
    number), for other apps that keep a number encrypted and find patients by it."""
    try:
        return blind_index(BIDX_PHONE, normalize_phone(phone))
    except ValidationError:
        return ""


def patients_with_phone_index(*, phone_bidx: str, limit: int = 5) -> list[Patient]:
    """Patients whose phone has this blind index (telephony's caller lookup).

    Not audited here: the caller of this selector records a read when it shows the patients
    to a person (the caller panel does, once per call and registrar).
    """
    if not phone_bidx:
        return []
    return list(
        Patient.objects.filter(phone_bidx=phone_bidx, anonymised_at__isnull=True).order_by("id")[
            :limit
        ]
    )
