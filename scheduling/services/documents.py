"""Write paths of a visit's documents: the doctor's summary for the patient, invoices to an
organisation. Rendering them is a read (`scheduling.selectors.documents`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import AuditAction
from portal.models import LegalEntity, User
from portal.services.audit import audit_record
from portal.types import Actor, RequestUser
from scheduling.choices import AppointmentStatus
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed
from scheduling.models import Appointment, OrganisationInvoice, VisitSummary
from scheduling.services.booking import check_may_act_for

MAX_SUMMARY_LENGTH = 4000
# Visits a summary may be written for: the patient came.
ATTENDED = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


SUMMARY_OBJECT_TYPE = "scheduling.visitsummary"


@transaction.atomic
def visit_summary_write(
    *, appointment: Appointment, text: str, actor: RequestUser, visible_to_patient: bool = False
) -> VisitSummary:
    """The doctor's words for the patient after the visit (replacing earlier ones), shown to
    the patient only when `visible_to_patient`. Staff who may complete visits in the clinic
    write it; only for a visit the patient attended. Audited (field names, never the text)."""
    if not permissions.has_capability(actor, "appointment.complete", appointment.clinic_id):
        raise NotAllowed(code="staff_only")
    if appointment.status not in ATTENDED:
        raise InvalidTransition(
            _("A note can be written once the patient has come."), code="not_attended"
        )
    text = text.strip()
    if not text or len(text) > MAX_SUMMARY_LENGTH:
        raise InvalidInput(
            _("Write the note in at most %(limit)d characters.") % {"limit": MAX_SUMMARY_LENGTH},
            code="invalid_summary",
            max_length=MAX_SUMMARY_LENGTH,
        )
    summary, created = VisitSummary.objects.update_or_create(
        appointment=appointment,
        defaults={
            "text": text,
            "visible_to_patient": visible_to_patient,
            "written_by": actor,
            "written_at": timezone.now(),
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=SUMMARY_OBJECT_TYPE,
        object_id=appointment.public_id,
        patient_ids=[appointment.patient.public_id],
        changed_fields=["text", "visible_to_patient"],
        clinic=appointment.clinic_id,
    )
    return summary


def _inn_is_valid(inn: str) -> bool:
    """Russian taxpayer number: 10 digits (organisations) or 12 (individual entrepreneurs),
    with their check digits."""
    if not inn.isdigit() or len(inn) not in (10, 12):
        return False
    digits = [int(char) for char in inn]

    def check(weights: list[int]) -> int:
        return sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10

    if len(inn) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[9]
    first = check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    second = check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    return first == digits[10] and second == digits[11]


@transaction.atomic
def invoice_create(
    *,
    appointment: Appointment,
    organisation_name: str,
    organisation_inn: str,
    organisation_address: str,
    actor: Actor,
    organisation_kpp: str = "",
) -> OrganisationInvoice:
    """An invoice to an organisation for one visit, numbered in its legal entity's sequence.
    Refused for cancelled or undone visits and for an invalid INN or KPP."""
    check_may_act_for(actor, appointment.patient)
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.ROLLED_BACK):
        raise InvalidTransition(code="not_billable")
    name, address = organisation_name.strip(), organisation_address.strip()
    inn, kpp = organisation_inn.strip(), organisation_kpp.strip()
    if not name or not address:
        raise InvalidInput(_("Name the organisation and its address."), code="organisation")
    if not _inn_is_valid(inn):
        raise InvalidInput(_("This INN is not valid."), code="invalid_inn", field="inn")
    if kpp and (not kpp.isdigit() or len(kpp) != 9):
        raise InvalidInput(_("A KPP has 9 digits."), code="invalid_kpp", field="kpp")
    entity_id = appointment.clinic.legal_entity_id
    # One invoice number at a time per legal entity.
    list(LegalEntity.objects.select_for_update().filter(pk=entity_id).values_list("pk"))
    last = OrganisationInvoice.objects.filter(legal_entity_id=entity_id).aggregate(Max("number"))
    return OrganisationInvoice.objects.create(
        appointment=appointment,
        legal_entity_id=entity_id,
        number=(last["number__max"] or 0) + 1,
        organisation_name=name[:300],
        organisation_inn=inn,
        organisation_kpp=kpp,
        organisation_address=address[:300],
        amount=appointment.price,
        created_by=actor if isinstance(actor, User) else None,
        created_at=timezone.now(),
    )
