"""The clinic admin's catalogue: shared service definitions, clinic prices with the day they
take effect, and promotions; and taking one use of a promotion in a booking.

Who may do what is checked by the callers (`catalogue.manage`): services are shared by the
network and edited by network-wide staff only; prices and promotions belong to one clinic.

Invariants:
- A price in force is never edited or removed: a change is a new row from a day on, so a
  booking's price and the price history stay true. Today's row may be corrected (bookings
  made earlier today have copied their price already); only future rows may be removed.
- A promo code belongs to one promotion at a time (case-insensitive, stored upper-case).
- A promotion with a usage limit is never used more often than the limit, also when two
  bookings race: the use is a conditional update in the booking's transaction.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from scheduling.choices import DiscountKind, PatientSegment
from scheduling.errors import InvalidInput, PromotionInvalid
from scheduling.models import Promotion, Service, ServicePrice
from scheduling.selectors.pricing import clinic_today, normalize_code

SERVICE_FIELDS = ("name", "duration_minutes", "preparation", "is_active", "sort_order")
PROMOTION_FIELDS = (
    "name",
    "service",
    "kind",
    "value",
    "starts_on",
    "ends_on",
    "code",
    "segment",
    "min_age",
    "max_age",
    "usage_limit",
    "is_active",
)


def user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def service_update(*, service: Service, actor: Any, **fields: Any) -> Service:
    """Change the shared definition of `service` (the names in `SERVICE_FIELDS`)."""
    unknown = set(fields) - set(SERVICE_FIELDS)
    if unknown:
        raise InvalidInput(code="unknown_field", fields=sorted(unknown))
    if fields.get("duration_minutes", service.duration_minutes) < 5:
        raise InvalidInput(
            _("A visit lasts at least 5 minutes."), code="too_short", field="duration_minutes"
        )
    changed = [name for name, value in fields.items() if getattr(service, name) != value]
    for name in changed:
        setattr(service, name, fields[name])
    if changed:
        service.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="scheduling.service",
            object_id=service.public_id,
            changed_fields=changed,
        )
    return service


@transaction.atomic
def service_price_schedule(
    *,
    clinic: Clinic,
    service: Service,
    price: Decimal,
    valid_from: datetime.date,
    actor: Any,
) -> ServicePrice:
    """Set the price of `service` in `clinic` from `valid_from` (today or later, the clinic's
    local day) on; a row already starting that day gets the new price."""
    if price < 0:
        raise InvalidInput(_("A price cannot be negative."), code="negative_price", field="price")
    if valid_from < clinic_today(clinic):
        raise InvalidInput(
            _("A new price starts today or later; past prices stay as they were."),
            code="price_in_past",
            field="valid_from",
        )
    row, created = ServicePrice.objects.update_or_create(
        clinic=clinic,
        service=service,
        valid_from=valid_from,
        defaults={"price": price, "created_by": user_or_none(actor)},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="scheduling.serviceprice",
        object_id=row.public_id,
        changed_fields=["price", "valid_from"],
        clinic=clinic,
    )
    return row


@transaction.atomic
def service_price_delete(*, row: ServicePrice, actor: Any) -> None:
    """Remove a price scheduled for a later day; prices in force stay in the history."""
    if row.valid_from <= clinic_today(row.clinic):
        raise InvalidInput(
            _("Only prices that have not taken effect yet can be removed."),
            code="price_in_force",
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="scheduling.serviceprice",
        object_id=row.public_id,
        clinic=row.clinic,
    )
    row.delete()


@transaction.atomic
def promotion_save(
    *, clinic: Clinic, actor: Any, promotion: Promotion | None = None, **fields: Any
) -> Promotion:
    """Create a promotion of `clinic`, or change `promotion` (of the same clinic).

    Refuses with `InvalidInput`: a percentage over 100 or a discount of nothing, a period
    ending before it starts, an age band without ages, a service that is not active, and a
    promo code another promotion has.
    """
    unknown = set(fields) - set(PROMOTION_FIELDS)
    if unknown:
        raise InvalidInput(code="unknown_field", fields=sorted(unknown))
    target = promotion if promotion is not None else Promotion(clinic=clinic)
    if target.clinic_id != clinic.pk:
        raise InvalidInput(code="other_clinic")
    for name, value in fields.items():
        setattr(target, name, value)
    target.code = normalize_code(target.code or "")
    _check_promotion(target)
    is_new = target.pk is None
    target.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type="scheduling.promotion",
        object_id=target.public_id,
        changed_fields=sorted(fields),
        clinic=clinic,
    )
    return target


def _check_promotion(p: Promotion) -> None:
    if p.value is None or p.value <= 0:
        raise InvalidInput(_("The discount must be more than zero."), code="no_discount")
    if p.kind == DiscountKind.PERCENT and p.value > 100:
        raise InvalidInput(_("A discount cannot exceed 100%."), code="over_100_percent")
    if p.ends_on < p.starts_on:
        raise InvalidInput(_("The last day comes before the first day."), code="period_order")
    if p.segment == PatientSegment.AGE_BAND:
        if p.min_age is None and p.max_age is None:
            raise InvalidInput(_("Give the age band: from, to or both."), code="no_age_band")
        if p.min_age is not None and p.max_age is not None and p.max_age < p.min_age:
            raise InvalidInput(_("The age band ends before it starts."), code="age_band_order")
    if p.service is not None and not p.service.is_active:
        raise InvalidInput(_("This service is not offered any more."), code="inactive_service")
    if p.code and Promotion.objects.filter(code=p.code).exclude(pk=p.pk).exists():
        raise InvalidInput(
            _("Another promotion has this promo code already."), code="code_taken", field="code"
        )


def promotion_take(*, promotion_id: int) -> None:
    """Count one use of a promotion with a usage limit in the caller's booking transaction;
    `PromotionInvalid` when the limit has been reached meanwhile. (Unlimited promotions are
    not counted here, so that bookings do not queue on one row; their uses are their
    appointments.)"""
    used = (
        Promotion.objects.filter(pk=promotion_id)
        .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
        .update(times_used=F("times_used") + 1)
    )
    if not used:
        raise PromotionInvalid(_("This promo code has been used up."), code="promo_used_up")
