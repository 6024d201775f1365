"""Reading leads for the marketer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from crm.models import Lead, LeadEvent, PipelineStage
from crm.permissions import leads_visible_to, require_crm_user
from portal.choices import AuditAction
from portal.services.audit import audit_record
from portal.types import RequestUser

PAGE_SIZE = 50


@dataclass(frozen=True)
class LeadFilters:
    stage: str = ""  # a stage's id, "open" (all open stages) or "" (all)
    source: str = ""
    mine: bool = False


def leads_page(*, user: RequestUser, filters: LeadFilters, page: int | str = 1) -> Page[Any]:
    """Leads the user may see, those waiting past their first-contact time first, then the
    newest; one page. Contact details stay encrypted here: the list shows names only."""
    require_crm_user(user)
    qs: QuerySet[Lead] = leads_visible_to(user).select_related("stage", "clinic", "owner")
    if filters.stage == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif filters.stage.isdigit():
        qs = qs.filter(stage_id=int(filters.stage))
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.mine:
        qs = qs.filter(owner_id=user.pk)
    now = timezone.now()
    qs = qs.annotate(
        overdue=Case(
            When(
                Q(first_contacted_at__isnull=True, closed_at__isnull=True)
                & Q(first_contact_due_at__lte=now),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-overdue", "-created_at", "-pk")
    return Paginator(qs, PAGE_SIZE).get_page(page)


def stages_for_filter(*, user: RequestUser) -> list[PipelineStage]:
    """Every stage a visible lead may be in (network defaults and clinics' own)."""
    require_crm_user(user)
    return list(PipelineStage.objects.select_related("clinic").order_by("order", "pk"))


@dataclass(frozen=True)
class LeadCard:
    lead: Lead
    events: list[LeadEvent]
    overdue: bool


def lead_card(*, user: RequestUser, lead: Lead) -> LeadCard:
    """The lead with its timeline; opening it is audited (it shows contact details)."""
    audit_record(
        actor=user,
        action=AuditAction.VIEW,
        object_type="crm.lead",
        object_id=lead.public_id,
        patient_ids=[lead.patient.public_id] if lead.patient is not None else [],
        clinic=lead.clinic_id,
    )
    events = list(lead.events.select_related("actor", "stage").order_by("occurred_at", "pk"))
    overdue = (
        lead.first_contacted_at is None
        and lead.closed_at is None
        and lead.first_contact_due_at is not None
        and lead.first_contact_due_at <= timezone.now()
    )
    return LeadCard(lead=lead, events=events, overdue=overdue)
