"""Retention campaigns: create one for a segment, send it once, read its results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.errors import LeadInvalid
from crm.forms import CampaignForm
from crm.models import Campaign, Segment
from crm.permissions import CAPABILITY, require_crm_user
from crm.selectors.campaigns import campaign_results, campaigns_for_user
from crm.services.campaigns import campaign_create, campaign_start
from portal import permissions


def _segments(user):
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    segments = Segment.objects.all()
    return segments if ids is None else segments.filter(clinic_id__in=ids)


def _campaign_for(user, pk) -> Campaign:
    require_crm_user(user)
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    campaign = Campaign.objects.select_related("segment", "clinic").filter(pk=pk).first()
    if campaign is None or (ids is not None and campaign.clinic_id not in ids):
        raise Http404
    return campaign


@login_required
@require_http_methods(["GET", "POST"])
def campaigns(request):
    require_crm_user(request.user)
    form = CampaignForm(request.POST or None, segments=_segments(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(actor=request.user, **form.cleaned_data)
        except LeadInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The campaign is saved as a draft."))
            return redirect("crm:campaign", campaign.pk)
    context = {"campaigns": campaigns_for_user(user=request.user), "form": form}
    return render(request, "crm/campaigns.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET"])
def campaign(request, pk):
    found = _campaign_for(request.user, pk)
    context = {"campaign": found, "results": campaign_results(campaign=found)}
    return render(request, "crm/campaign.html", context)


@login_required
@require_http_methods(["POST"])
def campaign_send(request, pk):
    found = _campaign_for(request.user, pk)
    try:
        campaign_start(campaign=found, actor=request.user)
    except LeadInvalid as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The campaign is being sent."))
    return redirect("crm:campaign", found.pk)
