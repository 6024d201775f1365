"""Writing KPI targets (the one place they change)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction

from analytics.models import KpiTarget
from portal.models import Clinic


def kpi_targets_set(*, clinic: Clinic, values: Mapping[str, Decimal | None]) -> None:
    """Set or clear (None) the targets of one clinic; the caller has checked the right
    (`analytics.targets` in that clinic)."""
    with transaction.atomic():
        for kpi, value in values.items():
            if value is None:
                KpiTarget.objects.filter(clinic=clinic, kpi=kpi).delete()
            else:
                KpiTarget.objects.update_or_create(
                    clinic=clinic, kpi=kpi, defaults={"value": value}
                )
