"""Probable duplicates and the merge screen: two profiles side by side, a value per field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.choices import DuplicateStatus
from crm.errors import MergeRefused
from crm.models import DuplicateCandidate, LegacyVisit
from crm.permissions import can_merge
from crm.services.merge import MERGE_FIELDS, patient_merge
from portal import permissions
from portal.choices import AuditAction
from portal.models import Patient
from portal.selectors.patients import patient_search
from portal.services.audit import audit_record

CAPABILITY = "patient.merge"


def _candidates_for(user):
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    rows = DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).select_related(
        "patient_a", "patient_b"
    )
    if ids is not None:
        rows = rows.filter(patient_a__home_clinic_id__in=ids, patient_b__home_clinic_id__in=ids)
    return rows


@login_required
@require_http_methods(["GET"])
def duplicates(request):
    permissions.require_capability(request.user, CAPABILITY)
    candidates = list(_candidates_for(request.user)[:100])
    found, search_error = [], ""
    query = request.GET.get("q", "").strip()[:100]
    if query:
        try:
            if any(ch.isalpha() for ch in query):
                found = patient_search(user=request.user, q=query)
            else:
                found = patient_search(user=request.user, phone=query)
        except ValidationError as exc:
            search_error = " ".join(exc.messages)
        found = [p for p in found if can_merge(request.user, p)]
    if candidates:
        audit_record(
            actor=request.user,
            action=AuditAction.LIST,
            object_type="crm.duplicatecandidate",
            patient_ids={str(p.public_id) for c in candidates for p in (c.patient_a, c.patient_b)},
        )
    context = {"candidates": candidates, "found": found, "q": query, "search_error": search_error}
    return render(request, "crm/duplicates.html", context)


def _profile(user, public_id) -> Patient:
    patient = (
        Patient.objects.filter(
            public_id=public_id, anonymised_at__isnull=True, merged_into__isnull=True
        )
        .select_related("home_clinic")
        .first()
    )
    if patient is None or not can_merge(user, patient):
        raise Http404
    return patient


@login_required
@require_http_methods(["GET", "POST"])
def merge(request, a, b):
    permissions.require_capability(request.user, CAPABILITY)
    first, second = _profile(request.user, a), _profile(request.user, b)
    if first.pk == second.pk:
        raise Http404
    error = ""
    if request.method == "POST":
        survivor, merged = (
            (second, first) if request.POST.get("survivor") == "b" else (first, second)
        )
        side_of_merged = "a" if merged is first else "b"
        take = [name for name in MERGE_FIELDS if request.POST.get(name) == side_of_merged]
        try:
            patient_merge(
                actor=request.user, survivor=survivor, merged=merged, take_from_merged=take
            )
        except (MergeRefused, ValidationError) as exc:
            error = str(getattr(exc, "message", "")) or " ".join(exc.messages)  # type: ignore[union-attr]
        else:
            messages.success(request, _("The profiles are merged."))
            return redirect("crm:duplicates")
    audit_record(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="portal.patient",
        object_id=first.public_id,
        patient_ids=[first.public_id, second.public_id],
    )
    rows = []
    for name in MERGE_FIELDS:
        left, right = _shown(first, name), _shown(second, name)
        rows.append((name, Patient._meta.get_field(name).verbose_name, left, right, left == right))
    counts = {
        p.pk: {
            "appointments": p.appointments.count(),
            "legacy": LegacyVisit.objects.filter(patient=p).count(),
            "consents": p.consents.count(),
            "account": p.user_id is not None,
        }
        for p in (first, second)
    }
    context = {
        "a": first,
        "b": second,
        "rows": rows,
        "counts_a": counts[first.pk],
        "counts_b": counts[second.pk],
        "error": error,
    }
    return render(request, "crm/merge.html", context, status=400 if error else 200)


def _shown(patient: Patient, name: str) -> str:
    value = getattr(patient, name)
    if value in (None, ""):
        return ""
    display = getattr(patient, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if hasattr(value, "strftime"):
        return value.strftime("%d.%m.%Y")
    return str(value)


@login_required
@require_http_methods(["POST"])
def duplicate_dismiss(request, pk):
    permissions.require_capability(request.user, CAPABILITY)
    candidate = _candidates_for(request.user).filter(pk=pk).first()
    if candidate is None:
        raise Http404
    candidate.status, candidate.resolved_at = DuplicateStatus.DISMISSED, timezone.now()
    candidate.save(update_fields=["status", "resolved_at"])
    messages.success(request, _("Marked as different people."))
    return redirect("crm:duplicates")
