"""The patient's documents: visit summaries, certificates of attendance and invoices to an
organisation, as PDFs in the patient's language. Every download is audited."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from portal.choices import AuditAction
from portal.models import Patient
from portal.pdf import render_pdf
from portal.services.audit import audit_record
from scheduling.errors import BookingError
from scheduling.forms.patient import InvoiceForm
from scheduling.selectors import documents
from scheduling.selectors.visits import get_visit_for_patient, patient_appointments
from scheduling.services.documents import invoice_create

OBJECT_TYPE = "scheduling.document"
SHOWN_ROWS = 10  # visits with documents listed before "show all"


def _pdf(
    request: HttpRequest, *, patient: Patient, template: str, context: dict, name: str, what: str
) -> HttpResponse:
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type=OBJECT_TYPE,
        object_id=what,
        patient_ids=[patient.public_id],
        clinic=context["clinic"].pk,
    )
    with translation.override(patient.preferred_language or translation.get_language()):
        body = render_pdf(template, context)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def documents_page(request: HttpRequest) -> HttpResponse:
    rows = documents.patient_documents(patient_appointments(request.user), request.user)
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "scheduling/documents.html",
        {
            "rows": rows if show_all else rows[:SHOWN_ROWS],
            "hidden": 0 if show_all else max(0, len(rows) - SHOWN_ROWS),
        },
    )


@login_required
def visit_document(request: HttpRequest, public_id: uuid.UUID, kind: str) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    if kind not in documents.document_kinds(appointment):
        raise Http404
    return _pdf(
        request,
        patient=appointment.patient,
        template=f"scheduling/pdf/{kind}.html",
        context=documents.document_context(appointment, kind),
        name=f"{kind}-{documents.filename_day(appointment.starts_at)}",
        what=f"{appointment.public_id}:{kind}",
    )


@login_required
def invoice_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    form = InvoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invoice_create(appointment=appointment, actor=request.user, **form.cleaned_data)
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The invoice is ready to download."))
            return redirect("scheduling:documents")
    return render(
        request, "scheduling/invoice_new.html", {"form": form, "appointment": appointment}
    )


@login_required
def invoice_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    invoice = documents.get_invoice_for_patient(request.user, public_id)
    return _pdf(
        request,
        patient=invoice.appointment.patient,
        template="scheduling/pdf/invoice.html",
        context=documents.invoice_context(invoice),
        name=f"invoice-{invoice.number}",
        what=f"invoice:{invoice.public_id}",
    )
