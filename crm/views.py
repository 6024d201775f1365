"""The marketer's lead pages and the public website form."""

from __future__ import annotations

import datetime

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.choices import LeadSource
from crm.errors import LeadInvalid
from crm.forms import NoteForm, PublicLeadForm, StaffLeadForm, TaskForm
from crm.models import PipelineStage
from crm.permissions import CAPABILITY, get_lead_for_user, require_crm_user
from crm.selectors.leads import LeadFilters, lead_card, leads_page, stages_for_filter
from crm.selectors.tasks import owners_for, tasks_of_lead
from crm.services.leads import (
    ATTRIBUTION_FIELDS,
    lead_add_note,
    lead_assign,
    lead_create,
    lead_set_stage,
    pipeline_of,
)
from crm.views_tasks import default_due
from portal import permissions
from portal.models import Clinic
from portal.request_context import client_ip
from portal.services import limits


def _form_limit_exceeded(request) -> bool:
    key = limits.store_key("crm-form", client_ip(request) or "unknown")
    count = limits.counter_add(key=key, window=datetime.timedelta(hours=1))
    return count > settings.CRM_FORM_LIMIT_PER_HOUR


@csrf_exempt  # Framed on clinics' sites, where our cookies are third-party: no CSRF cookie.
@xframe_options_exempt
@csp_replace({"frame-ancestors": settings.CRM_FORM_FRAME_ANCESTORS})
@require_http_methods(["GET", "POST"])
def lead_form(request):
    """The website enquiry form: framed by the embed snippet, or linked to directly. The
    page's query string (UTM tags, ad-click ids) rides along in hidden fields."""
    if request.method == "GET":
        initial = {key: request.GET.get(key, "") for key in ATTRIBUTION_FIELDS}
        initial["clinic"] = request.GET.get("clinic", "")
        form = PublicLeadForm(initial=initial)
        return render(request, "crm/lead_form.html", {"form": form})
    form = PublicLeadForm(request.POST)
    if not form.is_valid():
        return render(request, "crm/lead_form.html", {"form": form}, status=400)
    data = form.cleaned_data
    if data["website"]:
        # A robot filled the honeypot: it is thanked and nothing is stored.
        return render(request, "crm/lead_form_thanks.html")
    if _form_limit_exceeded(request):
        form.add_error(None, _("Too many enquiries from your network. Please call us instead."))
        return render(request, "crm/lead_form.html", {"form": form}, status=429)
    clinic = Clinic.objects.filter(slug=data["clinic"], is_active=True).first()
    try:
        lead_create(
            source=LeadSource.WEB_FORM,
            actor=None,
            clinic=clinic,
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            comment=data["comment"],
            attribution={key: data.get(key, "") for key in ATTRIBUTION_FIELDS},
        )
    except LeadInvalid as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return render(request, "crm/lead_form.html", {"form": form}, status=400)
    return render(request, "crm/lead_form_thanks.html")


@require_http_methods(["GET"])
def embed_script(request):
    """The snippet clinics' sites include: it frames the form and passes the page's UTM tags,
    ad-click ids and analytics cookies along (it runs on their page, where those live)."""
    response = render(request, "crm/embed.js", content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _filters(request) -> LeadFilters:
    return LeadFilters(
        stage=request.GET.get("stage", "open"),
        source=request.GET.get("source", "")
        if request.GET.get("source") in LeadSource.values
        else "",
        mine=request.GET.get("mine") == "1",
    )


@login_required
@require_http_methods(["GET", "POST"])
def leads(request):
    require_crm_user(request.user)
    clinics = permissions.clinics_with(request.user, CAPABILITY).order_by("name")
    form = StaffLeadForm(request.POST or None, clinics=clinics)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead, created = lead_create(
                source=data["source"],
                actor=request.user,
                clinic=data["clinic"],
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                comment=data["comment"],
                attribution={
                    "utm_source": data["utm_source"],
                    "utm_campaign": data["utm_campaign"],
                },
            )
        except LeadInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            if created:
                messages.success(request, _("The lead is recorded."))
            else:
                messages.info(request, _("This person already has an open lead; it is updated."))
            return redirect("crm:lead", lead.public_id)
    filters = _filters(request)
    page = leads_page(user=request.user, filters=filters, page=request.GET.get("page", 1))
    context = {
        "page": page,
        "filters": filters,
        "stages": stages_for_filter(user=request.user),
        "sources": LeadSource.choices,
        "form": form,
        "embed_url": request.build_absolute_uri(reverse("crm:embed_script")),
        "clinics": clinics,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "crm/leads.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def lead(request, public_id):
    found = get_lead_for_user(request.user, public_id)
    card = lead_card(user=request.user, lead=found)
    task_form = TaskForm(
        owners=owners_for(found),
        initial={"due_at": default_due(), "owner": request.user.pk},
    )
    context = {
        "card": card,
        "stages": pipeline_of(found.clinic),
        "note_form": NoteForm(),
        "tasks": tasks_of_lead(found),
        "task_form": task_form,
    }
    return render(request, "crm/lead.html", context)


@login_required
@require_http_methods(["POST"])
def lead_action(request, public_id, action):
    found = get_lead_for_user(request.user, public_id)
    try:
        if action == "stage":
            stage = PipelineStage.objects.filter(pk=request.POST.get("stage") or 0).first()
            if stage is None:
                raise LeadInvalid(_("Choose a stage."))
            lead_set_stage(lead=found, stage=stage, actor=request.user)
            messages.success(request, _("The stage is changed."))
        elif action == "take":
            lead_assign(lead=found, owner=request.user, actor=request.user)
            messages.success(request, _("The lead is yours now."))
        elif action == "note":
            form = NoteForm(request.POST)
            if not form.is_valid():
                raise LeadInvalid(_("Keep the note shorter."))
            lead_add_note(
                lead=found,
                note=form.cleaned_data["note"],
                contacted=form.cleaned_data["contacted"],
                actor=request.user,
            )
            messages.success(request, _("Saved."))
        else:
            return HttpResponse(status=404)
    except LeadInvalid as exc:
        messages.error(request, str(exc.message))
    return redirect("crm:lead", found.public_id)
