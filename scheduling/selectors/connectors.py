"""Connectors as the network admin sees them: each clinic's configuration, its circuit and the
outcome of its recent calls; and one word for `/healthz`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import BookingMode, ConnectorOutcome
from scheduling.connectors.runtime import circuit_state
from scheduling.models import ClinicConnector, ConnectorCall

RECENT_CALLS = 50
WINDOW = datetime.timedelta(hours=1)
FAULTS = (ConnectorOutcome.ERROR, ConnectorOutcome.TIMEOUT, ConnectorOutcome.CIRCUIT_OPEN)


@dataclass(frozen=True)
class ConnectorHealth:
    """`state`: ok (answering), degraded (its last call failed), down (circuit open),
    off (disabled), unknown (never called)."""

    state: str
    circuit: str
    calls_last_hour: int
    failures_last_hour: int
    last_call: ConnectorCall | None


def connector_health(row: ClinicConnector) -> ConnectorHealth:
    since = timezone.now() - WINDOW
    counts = ConnectorCall.objects.filter(connector=row, at__gte=since).aggregate(
        calls=Count("pk"), failures=Count("pk", filter=Q(outcome__in=FAULTS))
    )
    last = ConnectorCall.objects.filter(connector=row).order_by("-at", "-pk").first()
    circuit = circuit_state(row)
    if not row.is_enabled:
        state = "off"
    elif circuit == "open":
        state = "down"
    elif last is None:
        state = "unknown"
    else:
        state = "degraded" if last.outcome in FAULTS else "ok"
    return ConnectorHealth(state, circuit, counts["calls"], counts["failures"], last)


def connector_clinics() -> list[tuple[Clinic, ClinicConnector | None, ConnectorHealth | None]]:
    """Active clinics in connector mode or with a connector, by name, each with its health."""
    clinics = (
        Clinic.objects.filter(is_active=True)
        .filter(Q(booking_policy__mode=BookingMode.CONNECTOR) | Q(connector__isnull=False))
        .select_related("connector", "booking_policy")
        .order_by("name")
    )
    rows = []
    for clinic in clinics:
        row = getattr(clinic, "connector", None)
        rows.append((clinic, row, connector_health(row) if row is not None else None))
    return rows


def recent_calls(row: ClinicConnector) -> list[ConnectorCall]:
    return list(ConnectorCall.objects.filter(connector=row).order_by("-at", "-pk")[:RECENT_CALLS])


def connectors_status() -> str:
    """For `/healthz`: `none` without connectors, `ok`, or `degraded` if any enabled one is
    failing. Never "down": an external system's trouble is not this instance's."""
    rows = list(ClinicConnector.objects.filter(is_enabled=True, clinic__is_active=True))
    if not rows:
        return "none"
    states = {connector_health(row).state for row in rows}
    return "degraded" if states & {"down", "degraded"} else "ok"
