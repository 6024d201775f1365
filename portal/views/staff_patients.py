"""Staff workplace pages of the shared patient profile: search, card, new, edit; audit log.

Searches are POSTed, not sent in the query string: phones, names and birth dates must not end
up in access logs, proxies or browser history.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal import permissions
from portal.forms.staff_patients import (
    AuditFilterForm,
    NewPatientForm,
    PatientForm,
    PatientSearchForm,
    initial_from,
)
from portal.panels import STAFF_PATIENT_CARD, panels_for
from portal.prefill import new_patient_prefill_take
from portal.selectors.audit import audit_events, audit_log_rows, audit_readable_clinics
from portal.selectors.patients import (
    patient_duplicates_for_staff,
    patient_for_edit,
    patient_search,
    staff_patient_card,
)
from portal.services.patients import patient_create, patient_update
from portal.throttling import patient_search_wait

AUDIT_PAGE_SIZE = 50


def _search_context(request) -> dict:
    """Shared by the full page and its htmx partial: the form, and results once searched."""
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    results = retry_after = None
    if form.is_bound and form.is_valid() and form.criteria():
        # Counted per staff member with the API's searches; over the rate nothing is read.
        retry_after = patient_search_wait(request)
        if retry_after is None:
            try:
                results = patient_search(user=request.user, **form.criteria())
            except ValidationError as exc:
                errors = [m for messages_ in exc.message_dict.values() for m in messages_]
                form.add_error("q", errors)
    return {
        "form": form,
        "results": results,
        "retry_after": retry_after,
        "can_create": permissions.has_capability(request.user, "patient.create"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def patient_search_page(request):
    permissions.require_capability(request.user, "patient.search")
    context = _search_context(request)
    template = (
        "portal/htmx/patient_results.html" if request.htmx else "portal/staff/patient_search.html"
    )
    if context["retry_after"] is None:
        return render(request, template, context)
    # Too many searches: the same page (or partial) says when to try again, with the typed
    # query kept, as a 429 with Retry-After.
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(context["retry_after"])
    return response


@login_required
@require_http_methods(["GET"])
def patient_card(request, public_id):
    card = staff_patient_card(user=request.user, public_id=public_id)
    # Other apps add their parts (the booking engine: visits and "Book") through panels.
    panels = panels_for(STAFF_PATIENT_CARD, request, patient=card.patient)
    return render(request, "portal/staff/patient_card.html", {"card": card, "panels": panels})


@login_required
@require_http_methods(["GET", "POST"])
def patient_create_page(request):
    permissions.require_capability(request.user, "patient.create")
    clinics = permissions.clinics_with(request.user, "patient.create")
    initial = _default_clinic(clinics)
    if request.method == "GET":
        # A number handed over by the caller panel (telephony), never through the URL.
        initial |= new_patient_prefill_take(request.session)
    form = NewPatientForm(request.POST or None, clinics=clinics, initial=initial)
    duplicates = []
    if form.is_bound and form.is_valid():
        values = form.profile_values()
        if not form.cleaned_data["confirm_duplicates"]:
            duplicates = patient_duplicates_for_staff(
                user=request.user,
                phone=values["phone"],
                email=values["email"],
                last_name=values["last_name"],
                first_name=values["first_name"],
                birth_date=values["birth_date"],
            )
        if not duplicates:
            try:
                patient = patient_create(actor=request.user, **values)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The patient profile was created."))
                back = _return_with_patient(request, patient)
                return redirect(back or reverse("portal:patient_card", args=[patient.public_id]))
    return render(
        request,
        "portal/staff/patient_form.html",
        {"form": form, "duplicates": duplicates, "patient": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit_page(request, public_id):
    # Only showing stored values is a read; a re-shown form after bad input is not.
    patient = patient_for_edit(
        user=request.user, public_id=public_id, record_view=request.method == "GET"
    )
    clinics = permissions.clinics_with(request.user, "patient.update")
    if patient.home_clinic_id:
        clinics = clinics | clinics.model.objects.filter(pk=patient.home_clinic_id)
    form = PatientForm(request.POST or None, clinics=clinics, initial=initial_from(patient))
    if form.is_bound and form.is_valid():
        try:
            patient_update(actor=request.user, patient=patient, **form.profile_values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The patient profile was saved."))
            return redirect("portal:patient_card", public_id=patient.public_id)
    return render(
        request,
        "portal/staff/patient_form.html",
        {"form": form, "duplicates": [], "patient": patient},
    )


@login_required
@require_http_methods(["GET"])
def audit_log(request):
    permissions.require_capability(request.user, "audit.view")
    form = AuditFilterForm(
        {k: v for k, v in request.GET.items() if k != "page"} or None,
        clinics=audit_readable_clinics(request.user),
    )
    valid = not form.is_bound or form.is_valid()
    filters = form.cleaned_data if form.is_bound and valid else {}
    events = audit_events(user=request.user, **filters)
    if not valid:
        # A filter that cannot be applied shows its error and nothing, never everything.
        events = events.none()
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = audit_log_rows(list(page.object_list), reader=request.user)
    return render(
        request,
        "portal/staff/audit_log.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


def _return_with_patient(request, patient) -> str | None:
    """Where the registration started (the desk's booking of a free time, say), carrying the
    new patient; None unless `next` is a path on this site."""
    target = request.GET.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(target)
    query = urlencode([*parse_qsl(parts.query), ("patient", str(patient.public_id))])
    return urlunsplit(("", "", parts.path, query, ""))


def _default_clinic(clinics) -> dict:
    # A registrar working in one clinic registers patients there.
    only = list(clinics[:2])
    return {"home_clinic": only[0].pk} if len(only) == 1 else {}
