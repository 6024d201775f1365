"""A visit's documents: which ones a patient may download, and what each one says."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.formatting import day_label, time_label
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment, OrganisationInvoice, VisitSummary
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.payments import included_vat, paid_appointment_ids, paid_payment

S = AppointmentStatus
SUMMARY = "summary"
CERTIFICATE = "certificate"
RECEIPT = "receipt"
KINDS = {
    SUMMARY: _("Visit summary"),
    CERTIFICATE: _("Certificate of attendance"),
    RECEIPT: _("Payment receipt"),
}
ATTENDED = (S.CHECKED_IN, S.COMPLETED)


def document_kinds(appointment: Appointment, *, paid: bool | None = None) -> list[str]:
    """The documents of a visit: a summary and a certificate once the patient came, a payment
    receipt once it was prepaid (`paid`: known already, or read now)."""
    kinds = [SUMMARY, CERTIFICATE] if appointment.status in ATTENDED else []
    if paid is None:
        paid = paid_payment(appointment) is not None
    if paid:
        kinds.append(RECEIPT)
    return kinds


def patient_invoices(user: Any) -> QuerySet[OrganisationInvoice]:
    return OrganisationInvoice.objects.filter(
        appointment__patient__in=permissions.patients_managed_by(user)
    ).select_related("appointment__patient", "appointment__clinic", "appointment__service")


def get_invoice_for_patient(user: Any, public_id: Any) -> OrganisationInvoice:
    return get_by_public_id(patient_invoices(user), public_id)


@dataclass
class DocumentRow:
    appointment: Appointment
    kinds: list[tuple[str, str]]  # (kind, label)
    invoices: list[OrganisationInvoice]


def patient_documents(appointments: QuerySet[Appointment], user: Any) -> list[DocumentRow]:
    """Per visit with anything to download, newest first: its documents and invoices."""
    invoices: dict[int, list[OrganisationInvoice]] = {}
    for invoice in patient_invoices(user).order_by("-created_at"):
        invoices.setdefault(invoice.appointment_id, []).append(invoice)
    rows = []
    ordered = list(appointments.order_by("-starts_at"))
    paid = paid_appointment_ids(a.pk for a in ordered)
    for appointment in ordered:
        kinds = [
            (kind, str(KINDS[kind]))
            for kind in document_kinds(appointment, paid=appointment.pk in paid)
        ]
        if kinds or appointment.pk in invoices:
            rows.append(DocumentRow(appointment, kinds, invoices.get(appointment.pk, [])))
    return rows


def _visit_context(appointment: Appointment) -> dict[str, Any]:
    clinic = appointment.clinic
    start = appointment.starts_at.astimezone(clinic.tz)
    end = appointment.ends_at.astimezone(clinic.tz)
    return {
        "appointment": appointment,
        "patient": appointment.patient,
        "clinic": clinic,
        "entity": clinic.legal_entity,
        "day": day_label(start.date()),
        "start": time_label(start),
        "end": time_label(end),
        "issued": day_label(timezone.localdate()),
    }


def patient_visible_summary(appointment: Appointment) -> VisitSummary | None:
    """The doctor's note for the patient, if the doctor has made it visible to them."""
    return VisitSummary.objects.filter(appointment=appointment, visible_to_patient=True).first()


def document_context(appointment: Appointment, kind: str) -> dict[str, Any]:
    """What the document of `kind` shows for `appointment` (a summary or a certificate)."""
    context = _visit_context(appointment)
    context["title"] = KINDS[kind]
    if kind == SUMMARY:
        context["summary"] = patient_visible_summary(appointment)
    if kind == RECEIPT:
        context.update(receipt_context(appointment))
    return context


def receipt_context(appointment: Appointment) -> dict[str, Any]:
    """The prepayment's receipt: the service as its one item, VAT included, the payment's
    ids and time in the clinic's zone."""
    payment = paid_payment(appointment)
    if payment is None:  # pragma: no cover - document_kinds offers it only when paid
        return {}
    clinic = appointment.clinic
    paid_at = (payment.paid_at or payment.updated_at).astimezone(clinic.tz)
    entity = clinic.legal_entity
    return {
        "payment": payment,
        "refund": getattr(payment, "refund", None),
        "paid_day": day_label(paid_at.date()),
        "paid_time": time_label(paid_at),
        "vat": included_vat(payment.amount, entity.vat_mode),
        "vat_mode": entity.get_vat_mode_display(),
    }


def invoice_context(invoice: OrganisationInvoice) -> dict[str, Any]:
    context = _visit_context(invoice.appointment)
    context["invoice"] = invoice
    context["invoice_day"] = day_label(
        invoice.created_at.astimezone(invoice.appointment.clinic.tz).date()
    )
    return context


def filename_day(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d")
