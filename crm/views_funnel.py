"""The funnel report, ad spend entry and import, and the offline-conversion export."""

from __future__ import annotations

import csv
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from crm.errors import LeadInvalid
from crm.forms import FunnelFilterForm, SpendForm, SpendImportForm
from crm.permissions import CAPABILITY, require_crm_user
from crm.selectors.exports import offline_conversions
from crm.selectors.funnel import funnel_report
from crm.services.spend import ad_spend_add, ad_spend_import_csv
from portal import permissions
from portal.spreadsheet_csv import spreadsheet_csv_response

MAX_UPLOAD = 1024 * 1024


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    """Comma-separated, without a BOM: the layout Yandex Metrica's import requires."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _funnel_csv(funnel):
    yield [
        _("Source"),
        _("Campaign"),
        _("Leads"),
        pgettext("lead stage", "Booked"),
        _("Attended"),
        _("Revenue, ₽"),
        _("Spend, ₽"),
        "CPL",
        "CAC",
        "ROMI, %",
    ]
    for source in funnel.sources:
        for row in source.rows:
            yield [
                row.source,
                row.campaign,
                row.leads,
                row.booked,
                row.attended,
                row.revenue,
                row.spend,
                row.cpl or "",
                row.cac or "",
                row.romi if row.romi is not None else "",
            ]


@login_required
@require_http_methods(["GET", "POST"])
def funnel(request):
    require_crm_user(request.user)
    clinics = permissions.clinics_with(request.user, CAPABILITY).order_by("name")
    today = timezone.localdate()
    defaults = {
        "date_from": today - datetime.timedelta(days=89),
        "date_to": today,
        "touch": "first",
    }
    filters = FunnelFilterForm(request.GET or None, clinics=clinics, initial=defaults)
    spend_form, import_form = SpendForm(), SpendImportForm()
    if request.method == "POST":
        spend_form, import_form, done = _post_spend(request, clinics)
        if done:
            return redirect(request.get_full_path())
    # Bad filters show their errors and no figures: the defaults' would pass for the asked ones.
    invalid = filters.is_bound and not filters.is_valid()
    values = filters.cleaned_data if filters.is_bound and not invalid else defaults
    clinic = values.get("clinic")
    report = None
    if not invalid:
        report = funnel_report(
            user=request.user,
            date_from=values["date_from"],
            date_to=values["date_to"],
            touch=values.get("touch") or "first",
            clinic_id=clinic.pk if clinic else None,
        )
    if report is not None and request.GET.get("format") == "csv":
        return spreadsheet_csv_response(
            _funnel_csv(report), f"funnel-{report.date_from}-{report.date_to}.csv"
        )
    context = {
        "filters": filters,
        "funnel": report,
        "spend_form": spend_form,
        "import_form": import_form,
        "csv_query": request.GET.urlencode(),
    }
    status = 400 if request.method == "POST" or invalid else 200
    return render(request, "crm/funnel.html", context, status=status)


def _post_spend(request, clinics):
    spend_form, import_form = SpendForm(), SpendImportForm()
    clinic = clinics.filter(pk=request.POST.get("clinic") or 0).first()
    try:
        if "file" in request.FILES:
            import_form = SpendImportForm(request.POST, request.FILES)
            if not import_form.is_valid():
                return spend_form, import_form, False
            upload = import_form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD:
                raise LeadInvalid(_("The file is larger than 1 MB."))
            count = ad_spend_import_csv(data=upload.read(), actor=request.user, clinic=clinic)
            messages.success(request, _("Imported %(count)d spend lines.") % {"count": count})
            return spend_form, import_form, True
        spend_form = SpendForm(request.POST)
        if not spend_form.is_valid():
            return spend_form, import_form, False
        ad_spend_add(actor=request.user, clinic=clinic, **spend_form.cleaned_data)
        messages.success(request, _("The spend is recorded."))
        return spend_form, import_form, True
    except LeadInvalid as exc:
        target = import_form if "file" in request.FILES else spend_form
        target.add_error(None, str(exc.message))
        return spend_form, import_form, False


@login_required
@require_http_methods(["GET"])
def offline_conversions_csv(request):
    kind = request.GET.get("id", "clientid")
    rows = offline_conversions(user=request.user, id_kind=kind)
    return _csv_response(rows, f"offline-conversions-{kind}-{timezone.localdate()}.csv")
