"""The closed loop in figures: source and campaign → leads → bookings → attended visits →
revenue, against the money spent.

Definitions (shown on the page):
- a lead counts in the period of the local day it was received;
- booked: the lead's person booked a visit after the enquiry (`Lead.booked_appointment`);
- attended: that visit was completed; revenue: the price of those visits;
- spend: ad spend entries spread evenly over their days, the days inside the period counted;
- CPL = spend ÷ leads; CAC = spend ÷ attended; ROMI = (revenue − spend) ÷ spend.
First-touch groups a lead by the tags of its first enquiry, last-touch by those of its latest.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.choices import LeadSource
from crm.models import AdSpend, Lead
from crm.permissions import leads_visible_to, require_crm_user
from crm.selectors.activity import activity_state, visits_changed
from portal import permissions
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus

ZERO = Decimal("0.00")
TOUCHES = ("first", "last")


@dataclass
class FunnelRow:
    source: str
    campaign: str
    leads: int = 0
    booked: int = 0
    attended: int = 0
    revenue: Decimal = ZERO
    spend: Decimal = ZERO
    rows: list[FunnelRow] = field(default_factory=list)

    @property
    def cpl(self) -> Decimal | None:
        return (
            (self.spend / self.leads).quantize(Decimal("0.01"))
            if self.leads and self.spend
            else None
        )

    @property
    def cac(self) -> Decimal | None:
        return (
            (self.spend / self.attended).quantize(Decimal("0.01"))
            if self.attended and self.spend
            else None
        )

    @property
    def romi(self) -> Decimal | None:
        if not self.spend:
            return None
        return ((self.revenue - self.spend) / self.spend * 100).quantize(Decimal("1"))

    @property
    def booked_share(self) -> int | None:
        return round(self.booked * 100 / self.leads) if self.leads else None

    def add(self, other: FunnelRow) -> None:
        self.leads += other.leads
        self.booked += other.booked
        self.attended += other.attended
        self.revenue += other.revenue
        self.spend += other.spend


@dataclass
class Funnel:
    date_from: datetime.date
    date_to: datetime.date
    touch: str
    sources: list[FunnelRow]
    total: FunnelRow


def _local_bounds(
    date_from: datetime.date, date_to: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


def _spend_in_period(
    spend: QuerySet[AdSpend], date_from: datetime.date, date_to: datetime.date
) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in spend.filter(date_from__lte=date_to, date_to__gte=date_from):
        days = (entry.date_to - entry.date_from).days + 1
        inside = (min(entry.date_to, date_to) - max(entry.date_from, date_from)).days + 1
        share = (entry.amount * inside / days).quantize(Decimal("0.01"))
        totals[(entry.utm_source, entry.utm_campaign)] += share
    return totals


def _outcomes(*, live: bool) -> dict[str, Any]:
    """The funnel's aggregates: from the outcomes kept on the lead, or from the visit itself."""
    if live:
        attended = Q(booked_appointment__status=AppointmentStatus.COMPLETED)
        revenue = Sum("booked_appointment__price", filter=attended)
    else:
        attended = Q(outcome_attended=True)
        revenue = Sum("outcome_revenue", filter=attended)
    return {
        "n": Count("pk"),
        "booked": Count("pk", filter=Q(booked_appointment__isnull=False)),
        "attended": Count("pk", filter=attended),
        "revenue": Coalesce(
            revenue, Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2)
        ),
    }


def _grouped(leads: QuerySet[Lead], source_field: str, campaign_field: str) -> list[dict[str, Any]]:
    """Leads counted per tag group. Outcomes come from the leads themselves (kept by
    `crm.services.activity`), except for leads whose visit changed since the last refresh and
    every lead before the first one: those are joined to their visit, so figures are live."""
    group = (source_field, campaign_field, "source")
    state = activity_state()
    if state is None:
        return list(leads.values(*group).annotate(**_outcomes(live=True)).order_by())
    changed = visits_changed(state).values("pk")
    kept = leads.exclude(booked_appointment__in=changed)
    fresh = leads.filter(booked_appointment__in=changed)
    return [
        *kept.values(*group).annotate(**_outcomes(live=False)).order_by(),
        *fresh.values(*group).annotate(**_outcomes(live=True)).order_by(),
    ]


def funnel_report(
    *,
    user: RequestUser,
    date_from: datetime.date,
    date_to: datetime.date,
    touch: str = "first",
    clinic_id: int | None = None,
) -> Funnel:
    """The funnel by source and campaign for leads received from `date_from` to `date_to`;
    a handful of queries whatever the number of leads."""
    require_crm_user(user)
    touch = touch if touch in TOUCHES else "first"
    start, end = _local_bounds(date_from, date_to)
    leads = leads_visible_to(user).filter(created_at__gte=start, created_at__lt=end)
    spend = AdSpend.objects.all()
    visible = permissions.clinic_ids_with(user, "crm.use")
    if visible is not None:
        spend = spend.filter(clinic_id__in=visible)
    if clinic_id is not None:
        leads = leads.filter(clinic_id=clinic_id)
        spend = spend.filter(Q(clinic_id=clinic_id))
    source_field, campaign_field = (
        ("utm_source", "utm_campaign")
        if touch == "first"
        else ("last_utm_source", "last_utm_campaign")
    )
    labels = dict(LeadSource.choices)
    rows: dict[tuple[str, str], FunnelRow] = {}
    for item in _grouped(leads, source_field, campaign_field):
        utm_source, campaign = item[source_field], item[campaign_field]
        # Without tags a lead is grouped by how it came (a call, a walk-in).
        name = utm_source or f"({labels.get(item['source'], item['source'])})"
        key = (name, campaign if utm_source else "")
        row = rows.setdefault(key, FunnelRow(source=key[0], campaign=key[1]))
        row.add(
            FunnelRow(
                source=name,
                campaign=campaign,
                leads=item["n"],
                booked=item["booked"],
                attended=item["attended"],
                revenue=item["revenue"],
            )
        )
    for (utm_source, campaign), amount in _spend_in_period(spend, date_from, date_to).items():
        row = rows.setdefault(
            (utm_source, campaign), FunnelRow(source=utm_source, campaign=campaign)
        )
        row.spend += amount
    sources: dict[str, FunnelRow] = {}
    for (name, _campaign), row in sorted(rows.items()):
        total = sources.setdefault(name, FunnelRow(source=name, campaign=""))
        total.add(row)
        total.rows.append(row)
    grand = FunnelRow(source="", campaign="")
    for row in sources.values():
        grand.add(row)
    ordered = sorted(sources.values(), key=lambda r: (-r.revenue, -r.leads, r.source))
    return Funnel(date_from=date_from, date_to=date_to, touch=touch, sources=ordered, total=grand)
