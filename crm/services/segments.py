"""Saving and deleting segments; their rules are checked here, whichever page sends them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from crm.errors import LeadInvalid
from crm.models import Segment
from portal.choices import AuditAction
from portal.models import Clinic, User
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.models import Specialty

MAX_DAYS = 3650
MAX_COUNT = 100
MAX_AGE = 120


def _given(value: Any) -> bool:
    return value is not None and value != ""


def segment_rules_clean(raw: dict[str, Any]) -> dict[str, Any]:
    """The rules with only known names and sane values; empty values dropped."""
    rules: dict[str, Any] = {}
    try:
        if _given(raw.get("inactive_days")):
            days = int(raw["inactive_days"])
            if not 1 <= days <= MAX_DAYS:
                raise ValueError
            rules["inactive_days"] = days
        if _given(raw.get("specialty_id")):
            specialty_id = int(raw["specialty_id"])
            if not Specialty.objects.filter(pk=specialty_id).exists():
                raise ValueError
            rules["specialty_id"] = specialty_id
        if _given(raw.get("min_no_shows")):
            count = int(raw["min_no_shows"])
            if not 1 <= count <= MAX_COUNT:
                raise ValueError
            rules["min_no_shows"] = count
        if _given(raw.get("min_spend")):
            spend = Decimal(str(raw["min_spend"]))
            if not spend.is_finite() or spend <= 0:
                raise ValueError
            rules["min_spend"] = str(spend.quantize(Decimal("0.01")))
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise LeadInvalid(
            _("Check the rules: days, counts and sums are positive numbers.")
        ) from exc
    try:
        for name in ("age_from", "age_to"):
            if _given(raw.get(name)):
                age = int(raw[name])
                if not 0 <= age <= MAX_AGE:
                    raise ValueError
                rules[name] = age
        if rules.get("age_from", 0) > rules.get("age_to", MAX_AGE):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise LeadInvalid(
            _("Check the age band: whole years from 0 to 120, the first not above the second.")
        ) from exc
    if raw.get("marketing_consent"):
        rules["marketing_consent"] = True
    return rules


@transaction.atomic
def segment_create(
    *, name: str, rules: dict[str, Any], actor: Actor, clinic: Clinic | None = None
) -> Segment:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise LeadInvalid(_("Name the segment (up to 100 characters)."), field="name")
    segment = Segment.objects.create(
        name=name,
        clinic=clinic,
        rules=segment_rules_clean(rules),
        created_by=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="crm.segment",
        object_id=segment.pk,
        changed_fields=["name", "clinic", "rules"],
        clinic=clinic,
    )
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="crm.segment",
        object_id=segment.pk,
        clinic=segment.clinic_id,
    )
    segment.delete()
