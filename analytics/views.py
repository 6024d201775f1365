"""The KPI dashboard, its glossary, exports and the clinics' targets."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from analytics import charts
from analytics.formatting import as_target_unit, delta, format_target, format_value
from analytics.forms import DashboardFilterForm, KpiTargetForm
from analytics.kpis import DEFINITIONS
from analytics.models import KpiTarget
from analytics.selectors.dashboard import Figures, figures, kpi_values
from analytics.selectors.enterprise_data import enterprise_data_xml
from analytics.selectors.exports import accounting_rows, table_rows, table_xlsx
from analytics.selectors.facts import clinic_zones
from analytics.selectors.scope import Scope, narrowed, visible_clinic_ids
from analytics.selectors.sources import SourceKpis, comparison_kpis, source_kpis
from analytics.selectors.tables import TABLES, Table, build_tables
from analytics.services.targets import kpi_targets_set
from analytics.table_html import Cells, Links, table_body
from portal import permissions
from portal.spreadsheet_csv import spreadsheet_csv_response
from scheduling.choices import SELF_SERVICE_CHANNELS

TILES = (
    "online_share",
    "bookings",
    "no_show_rate",
    "cancellation_rate",
    "late_cancellation_rate",
    "wrong_bookings",
    "utilisation",
    "new_patients",
    "retention_90",
    "request_confirmation",
    "call_answer",
    "waitlist_fill",
    "waitlist_time_to_fill",
    "waitlist_manual",
    "waitlist_opened_fill",
    "delivery_rate",
    "revenue",
    "assistant_resolved",
    "assistant_bookings",
    "assistant_handoff",
    "assistant_time_to_booking",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _today() -> datetime.date:
    return timezone.now().astimezone(ZoneInfo(settings.DISPLAY_TIME_ZONE)).date()


def _scope_from(request: HttpRequest) -> tuple[Scope, DashboardFilterForm]:
    """The filters of the query string as a scope of what the user may see; invalid
    filters are reported on the form and the defaults are shown."""
    visible = visible_clinic_ids(request.user)
    clinics = permissions.clinics_with(request.user, "analytics.view")
    today = _today()
    # Bound whenever a filter is in the query (`?language=` alone is not one); the dates
    # default to the last 30 days so the date fields always show the period shown.
    query = None
    if any(name in request.GET for name in DashboardFilterForm.base_fields):
        query = request.GET.copy()
        if not query.get("date_from") and not query.get("date_to"):
            query["date_from"] = (today - datetime.timedelta(days=29)).isoformat()
            query["date_to"] = today.isoformat()
    form = DashboardFilterForm(
        query,
        clinics=clinics,
        today=today,
        initial={"date_from": today - datetime.timedelta(days=29), "date_to": today},
    )
    data: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
    last = data.get("date_to") or today
    first = data.get("date_from") or last - datetime.timedelta(days=29)
    clinic = data.get("clinic")
    specialty = data.get("specialty")
    doctor = data.get("doctor")
    scope = Scope(
        clinic_ids=narrowed(visible, clinic.pk if clinic else None),
        first=first,
        last=last,
        specialty_id=specialty.pk if specialty else None,
        doctor_id=doctor.pk if doctor else None,
    )
    return scope, form


def _targets(scope: Scope) -> dict[str, Any]:
    """Targets apply when exactly one clinic is shown."""
    if scope.clinic_ids is None or len(scope.clinic_ids) != 1:
        return {}
    (clinic_id,) = scope.clinic_ids
    return dict(KpiTarget.objects.filter(clinic_id=clinic_id).values_list("kpi", "value"))


def _tiles(
    scope: Scope, fig: Figures, sources: SourceKpis, zones: Mapping[int, ZoneInfo]
) -> list[dict[str, Any]]:
    values = kpi_values(fig) | sources.values
    previous = comparison_kpis(scope=scope.previous(), zones=zones, marks=fig.marks)
    last_year = comparison_kpis(scope=scope.last_year(), zones=zones, marks=fig.marks)
    notes = _notes(sources)
    targets = _targets(scope)
    tiles = []
    for code in TILES:
        d = DEFINITIONS[code]
        value = values.get(code)
        target = targets.get(code)
        shown = as_target_unit(value, d.unit)
        met = None
        if target is not None and shown is not None:
            met = shown >= target if d.higher_is_better else shown <= target
        tiles.append(
            {
                "code": code,
                "label": d.label,
                "definition": d.definition,
                "value": format_value(value, d.unit),
                "missing": value is None,
                "previous": delta(
                    value, previous.get(code), higher_is_better=d.higher_is_better, unit=d.unit
                ),
                "last_year": delta(
                    value, last_year.get(code), higher_is_better=d.higher_is_better, unit=d.unit
                ),
                "target": None if target is None else format_target(target, d.unit),
                "met": met,
                "note": notes.get(code),
            }
        )
    return tiles


def _notes(sources: SourceKpis) -> dict[str, str]:
    """The counts shown under a tile whose value leaves something out."""
    calls = sources.calls
    if calls is None or not (calls.answered or calls.missed):
        return {}
    return {
        "call_answer": ngettext(
            "%(answered)s answered, %(missed)s missed call",
            "%(answered)s answered, %(missed)s missed calls",
            calls.missed,
        )
        % {"answered": calls.answered, "missed": calls.missed}
    }


def _sorted_tables(request: HttpRequest, fig: Figures, sources: SourceKpis) -> dict[str, Table]:
    tables = build_tables(fig, refused=sources.refused)
    for code, table in tables.items():
        table.sort(request.GET.get(f"{code}_sort"))
    return tables


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _days(scope: Scope) -> list[datetime.date]:
    return [scope.first + datetime.timedelta(days=n) for n in range(scope.days)]


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope, form = _scope_from(request)
    zones = clinic_zones(scope.clinic_ids)
    fig = figures(scope=scope, zones=zones)
    sources = source_kpis(scope=scope, fig=fig, zones=zones)
    tables = _sorted_tables(request, fig, sources)
    clinic_bars = [
        (row["name"], float(row["revenue"])) for row in tables["clinics"].rows if row["revenue"]
    ]
    user = request.user
    may_drill = {
        row["clinic_id"]
        for row in tables["clinics"].rows
        if permissions.has_capability(user, "schedule.view", row["clinic_id"])
    }
    may_target = {
        row["clinic_id"]
        for row in tables["clinics"].rows
        if permissions.has_capability(user, "analytics.targets", row["clinic_id"])
    }
    sort_state = {code: request.GET.get(f"{code}_sort", "") for code in TABLES}
    links = Links(day=scope.last, may_drill=may_drill, may_target=may_target)
    cells = Cells()
    context = {
        "form": form,
        "scope": scope,
        "tiles": _tiles(scope, fig, sources, zones),
        "tables": tables,
        "sort_state": sort_state,
        "sort_queries": {code: _query_without(request, f"{code}_sort") for code in TABLES},
        "export_query": _query_without(request, *(f"{c}_sort" for c in TABLES)),
        "bodies": {
            code: table_body(table, links=links, cells=cells) for code, table in tables.items()
        },
        "presets": _presets(request),
        "chart_daily": charts.daily_bookings(fig.series, fig.series_online, _days(scope)),
        "chart_heatmap": charts.heatmap(fig.heatmap),
        "chart_revenue": charts.bars(clinic_bars, title=_("Revenue by clinic"), unit="₽"),
        "online_channels": sorted(SELF_SERVICE_CHANNELS),
        "refreshed_note": True,
    }
    return render(request, "analytics/dashboard.html", context)


def _presets(request: HttpRequest) -> list[dict[str, str]]:
    today = _today()
    base = _query_without(request, "date_from", "date_to")
    presets = []
    for label, first in (
        (_("7 days"), today - datetime.timedelta(days=6)),
        (_("30 days"), today - datetime.timedelta(days=29)),
        (_("90 days"), today - datetime.timedelta(days=89)),
        (_("This month"), today.replace(day=1)),
        (_("12 months"), today - datetime.timedelta(days=364)),
    ):
        query = f"date_from={first.isoformat()}&date_to={today.isoformat()}"
        presets.append({"label": label, "query": f"{base}&{query}" if base else query})
    return presets


@login_required
@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    visible_clinic_ids(request.user)
    return render(request, "analytics/glossary.html", {"definitions": DEFINITIONS.values()})


@login_required
@require_GET
def export_table(request: HttpRequest, table: str, fmt: str) -> HttpResponseBase:
    if table not in TABLES or fmt not in ("csv", "xlsx"):
        raise Http404
    scope, _form = _scope_from(request)
    fig = figures(scope=scope)
    chosen = _sorted_tables(request, fig, source_kpis(scope=scope, fig=fig))[table]
    name = f"{table}-{scope.first.isoformat()}-{scope.last.isoformat()}"
    if fmt == "xlsx":
        response = HttpResponse(
            table_xlsx(chosen),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    return spreadsheet_csv_response(table_rows(chosen), f"{name}.csv")


@login_required
@require_GET
def export_accounting(request: HttpRequest) -> HttpResponseBase:
    scope, _form = _scope_from(request)
    # A layout fixed for import into accounting software (README): `;`, dot decimals, column
    # ids rather than translated headings, whatever the reader's language; no BOM, which a
    # plain UTF-8 reader would take as part of the first column id.
    writer = csv.writer(_Echo(), delimiter=";")
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in accounting_rows(scope=scope)),
        content_type="text/csv; charset=utf-8",
    )
    name = f"visits-{scope.first.isoformat()}-{scope.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def export_accounting_xml(request: HttpRequest) -> HttpResponse:
    """The accounting export as a 1С EnterpriseData message (README, "Accounting export")."""
    scope, _form = _scope_from(request)
    response = HttpResponse(
        enterprise_data_xml(scope=scope, created=timezone.now()),
        content_type="application/xml; charset=utf-8",
    )
    name = f"visits-{scope.first.isoformat()}-{scope.last.isoformat()}.xml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest, clinic: str) -> HttpResponse:
    """One clinic's KPI targets: its clinic admin and the network admin may set them."""
    if not permissions.has_capability(request.user, "analytics.targets"):
        raise PermissionDenied
    place = get_object_or_404(
        permissions.clinics_with(request.user, "analytics.targets"), public_id=clinic
    )
    current = dict(KpiTarget.objects.filter(clinic=place).values_list("kpi", "value"))
    form = KpiTargetForm(request.POST or None, initial_values=current)
    if request.method == "POST" and form.is_valid():
        kpi_targets_set(clinic=place, values=form.cleaned_data)
        messages.success(request, _("Targets saved."))
        return redirect(f"{reverse('analytics:dashboard')}?clinic={place.pk}")
    fields = [(form[code], DEFINITIONS[code]) for code in form.fields]
    return render(
        request, "analytics/targets.html", {"form": form, "clinic": place, "fields": fields}
    )
