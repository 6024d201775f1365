"""The network admin's connector pages: which clinic is served by which external system, its
health and recent calls; configuring a clinic's connector (the secret is write-only)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scheduling.choices import ConnectorKind, ConnectorOperation
from scheduling.connectors import runtime
from scheduling.connectors.base import ConnectorError
from scheduling.errors import BookingError
from scheduling.forms.connectors import ConnectorForm
from scheduling.models import ClinicConnector
from scheduling.permissions import connector_clinic_for_user, require_connector_admin
from scheduling.selectors.connectors import connector_clinics, connector_health, recent_calls
from scheduling.selectors.policy import policy_for
from scheduling.services.connectors import connector_save


@login_required
def connectors(request: HttpRequest) -> HttpResponse:
    require_connector_admin(request.user)
    return render(request, "scheduling/connectors/index.html", {"rows": connector_clinics()})


def _initial(row: ClinicConnector | None) -> dict:
    if row is None:
        return {"kind": ConnectorKind.FHIR_R4, "timeout_seconds": 3, "is_enabled": True}
    return {
        "kind": row.kind,
        "base_url": row.base_url,
        "settings": json.dumps(row.settings, ensure_ascii=False, indent=2) if row.settings else "",
        "timeout_seconds": row.timeout_seconds,
        "is_enabled": row.is_enabled,
    }


@login_required
def connector(request: HttpRequest, public_id: object) -> HttpResponse:
    clinic = connector_clinic_for_user(request.user, public_id)
    row = ClinicConnector.objects.filter(clinic=clinic).first()
    form = ConnectorForm(request.POST or None, initial=_initial(row))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connector_save(
                clinic=clinic,
                kind=data["kind"],
                base_url=data["base_url"],
                options=data["settings"],
                secret=data["secret"] or None,
                timeout_seconds=data["timeout_seconds"],
                is_enabled=data["is_enabled"],
            )
        except BookingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The connector is saved."))
            return redirect("scheduling:connector", public_id=clinic.public_id)
    context = {
        "clinic": clinic,
        "mode": policy_for(clinic).get_mode_display(),
        "row": row,
        "form": form,
        "health": connector_health(row) if row is not None else None,
        "calls": recent_calls(row) if row is not None else [],
    }
    return render(request, "scheduling/connectors/connector.html", context)


@login_required
@require_POST
def connector_check(request: HttpRequest, public_id: object) -> HttpResponse:
    """Ask the system now (its metadata or feed) and say how it went."""
    clinic = connector_clinic_for_user(request.user, public_id)
    row = ClinicConnector.objects.filter(clinic=clinic).first()
    if row is None:
        messages.error(request, _("Set up the connector first."))
        return redirect("scheduling:connector", public_id=clinic.public_id)
    try:
        health = runtime.run(row, ConnectorOperation.HEALTH, lambda c: c.health())
    except ConnectorError as exc:
        messages.error(
            request,
            _("The system did not answer as expected (%(error)s).") % {"error": type(exc).__name__},
        )
    else:
        messages.success(request, _("The system answers. %(detail)s") % {"detail": health.detail})
    return redirect("scheduling:connector", public_id=clinic.public_id)
