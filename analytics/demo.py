"""Demo data for the dashboards: the rollups of the demo network's year of visits, and a few
targets a clinic would set (so the tiles show met and missed targets)."""

from __future__ import annotations

from decimal import Decimal

from analytics.choices import Kpi
from analytics.models import KpiTarget, RollupState
from analytics.services.rollups import rollups_rebuild
from portal.demo import DemoContext

# What the network aims for (the seed's clinic reached 62 % online and cut no-shows).
DEMO_TARGETS = {
    Kpi.ONLINE_SHARE: Decimal("60"),
    Kpi.NO_SHOW_RATE: Decimal("6"),
    Kpi.LATE_CANCELLATION_RATE: Decimal("4"),
    Kpi.UTILISATION: Decimal("75"),
    Kpi.WRONG_BOOKINGS: Decimal("5"),
}


def seed(ctx: DemoContext) -> None:
    for clinic in ctx.clinics.values():
        for kpi, value in DEMO_TARGETS.items():
            KpiTarget.objects.get_or_create(clinic=clinic, kpi=kpi, defaults={"value": value})
    if RollupState.objects.exists():
        return  # a second run: the beat task keeps the rollups current
    result = rollups_rebuild()
    ctx.log(f"analytics: rollups of {result.pairs} clinic days, {result.patients} patients")
