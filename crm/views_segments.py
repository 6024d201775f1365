"""Segments: saved groups of patients with their live counts, and a count preview while the
marketer edits the rules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.errors import LeadInvalid
from crm.forms import SegmentForm
from crm.models import Segment
from crm.permissions import CAPABILITY, require_crm_user
from crm.selectors.segments import segment_count, segments_for_user, specialties_for_rules
from crm.services.segments import segment_create, segment_delete, segment_rules_clean
from portal import permissions


def _form(request, data=None) -> SegmentForm:
    clinics = permissions.clinics_with(request.user, CAPABILITY).order_by("name")
    return SegmentForm(data, clinics=clinics, specialties=specialties_for_rules())


@login_required
@require_http_methods(["GET", "POST"])
def segments(request):
    require_crm_user(request.user)
    form = _form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            segment_create(
                name=form.cleaned_data["name"],
                clinic=form.cleaned_data["clinic"],
                rules=form.rules(),
                actor=request.user,
            )
        except LeadInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The segment is saved."))
            return redirect("crm:segments")
    status = 400 if request.method == "POST" else 200
    context = {"segments": segments_for_user(user=request.user), "form": form}
    return render(request, "crm/segments.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def segment_preview(request):
    """The count the rules in the query string would give (the form's htmx preview)."""
    require_crm_user(request.user)
    form = _form(request, request.GET)
    count = None
    if form.is_valid():
        try:
            count = segment_count(
                rules=segment_rules_clean(form.rules()), clinic=form.cleaned_data["clinic"]
            )
        except LeadInvalid:
            count = None
    return render(request, "crm/htmx/segment_count.html", {"count": count})


@login_required
@require_http_methods(["POST"])
def segment_remove(request, pk):
    require_crm_user(request.user)
    ids = permissions.clinic_ids_with(request.user, CAPABILITY)
    segment = Segment.objects.filter(pk=pk).first()
    if segment is None or (ids is not None and segment.clinic_id not in ids):
        raise Http404
    segment_delete(segment=segment, actor=request.user)
    messages.success(request, _("The segment is deleted."))
    return redirect("crm:segments")
