"""Patient import pages: upload, preview and mapping, dry run, run with a progress bar."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from crm.choices import ImportOutcome, ImportStatus
from crm.errors import ImportFileInvalid, ImportNotAllowed
from crm.permissions import can_import, get_import_job_for_user, import_jobs_visible_to
from crm.services.imports import jobs
from crm.services.imports.mapping import FIELDS, SKIP, SKIP_LABEL
from crm.services.imports.rows import REASONS
from portal import permissions

CAPABILITY = "patient.import"
ISSUES_SHOWN = 200


class UploadForm(forms.Form):
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Clinic"), empty_label=None
    )
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def imports(request):
    permissions.require_capability(request.user, CAPABILITY)
    clinics = permissions.clinics_with(request.user, CAPABILITY).order_by("name")
    form = UploadForm(request.POST or None, request.FILES or None, clinics=clinics)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        clinic = form.cleaned_data["clinic"]
        if not can_import(request.user, clinic):
            raise PermissionDenied
        try:
            job = jobs.import_job_create(
                actor=request.user, clinic=clinic, file_name=upload.name, data=upload.read()
            )
        except ImportFileInvalid as exc:
            form.add_error("file", str(exc.message))
        else:
            return redirect("crm:import_job", public_id=job.public_id)
    status = 400 if request.method == "POST" else 200
    recent = import_jobs_visible_to(request.user).select_related("clinic")[:20]
    return render(request, "crm/imports.html", {"form": form, "jobs": recent}, status=status)


def _job_context(job) -> dict:
    dry = job.status in (ImportStatus.CHECKING, ImportStatus.CHECKED, ImportStatus.UPLOADED)
    issues = job.issues.filter(dry_run=dry).exclude(outcome=ImportOutcome.LINKED)
    return {
        "job": job,
        "running": job.status in (ImportStatus.CHECKING, ImportStatus.RUNNING),
        "counts": job.dry_run_counts if dry else job.counts,
        "dry": dry,
        "issues": [
            (issue, FIELDS.get(issue.field, ""), REASONS.get(issue.code, ""))
            for issue in issues[:ISSUES_SHOWN]
        ],
        "issue_count": issues.count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_job(request, public_id):
    job = get_import_job_for_user(request.user, public_id)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("map", "dry_run", "run"):
                if "mapping-0" in request.POST:
                    raw = {
                        str(i): request.POST.get(f"mapping-{i}", SKIP)
                        for i in range(len(job.headers))
                    }
                    jobs.import_job_set_mapping(job=job, mapping=raw)
                if action != "map":
                    jobs.import_job_start(job=job, dry_run=action == "dry_run")
            elif action == "resume":
                jobs.import_job_resume(job=job)
            elif action == "cancel":
                jobs.import_job_cancel(job=job)
            else:
                raise ImportNotAllowed
        except (ImportFileInvalid, ImportNotAllowed) as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("Done."))
            return redirect("crm:import_job", public_id=job.public_id)
        job.refresh_from_db()
    columns = [
        (str(i), header, job.mapping.get(str(i), SKIP)) for i, header in enumerate(job.headers)
    ]
    context = _job_context(job) | {
        "columns": columns,
        "fields": [(SKIP, SKIP_LABEL), *FIELDS.items()],
        "preview": jobs.import_job_preview(job=job),
        "error": error,
        "editable": job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED),
    }
    return render(request, "crm/import_job.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
def import_progress(request, public_id):
    """The progress bar and counters (htmx polls it while the job runs)."""
    job = get_import_job_for_user(request.user, public_id)
    return render(request, "crm/htmx/import_progress.html", _job_context(job))
