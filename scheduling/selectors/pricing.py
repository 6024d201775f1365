"""What a visit costs on a day: the clinic's price in force and the promotion that applies.

A booking keeps the price of its day: the engine quotes the price in force in the clinic on
the day the booking is made (the clinic's local date), not on the visit's day, so that what
the patient sees when booking is what they pay, and a price scheduled for later never
applies early. With no clinic price the service's network price (`Service.price`) applies.

Promotions are judged on the same day. A promo code, when given, is the only promotion tried
and must fit (else `PromotionInvalid`, with the reason); without one, the automatic
promotion (one without a code) that fits and gives the largest discount applies.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db.models import (
    Count,
    QuerySet,
)
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient
from scheduling.choices import AppointmentStatus, DiscountKind, PatientSegment
from scheduling.errors import PromotionInvalid
from scheduling.models import Appointment, Promotion, Service, ServicePrice
from scheduling.selectors.availability.queries import fetch

CENT = Decimal("0.01")
# A patient's visits that count for "first visit to the network": all but undone ones.
UNDONE_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.ROLLED_BACK)


@dataclass(frozen=True)
class Quote:
    """The price of one booking: the list price, the discount and what is paid."""

    list_price: Decimal
    discount: Decimal = Decimal("0.00")
    promotion_id: int | None = None
    promotion_name: str = ""
    # Whether the promotion has a usage limit: only then does a booking count its use.
    limited: bool = False

    @property
    def price(self) -> Decimal:
        """What the patient pays."""
        return self.list_price - self.discount


def clinic_today(clinic: Clinic) -> datetime.date:
    """Today's date in the clinic's time zone: the day prices and promotions are judged on."""
    return timezone.now().astimezone(clinic.tz).date()


def normalize_code(code: str) -> str:
    """Promo codes are compared without case and surrounding spaces."""
    return code.strip().upper()


def discount_of(*, kind: str, value: Decimal, price: Decimal) -> Decimal:
    """The discount on `price`: a percentage rounded to kopecks, or a fixed sum up to the price."""
    if kind == DiscountKind.PERCENT:
        return (price * value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(value, price)


def age_on(birth_date: datetime.date | None, day: datetime.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def price_on(*, clinic: Clinic, service: Service, day: datetime.date) -> Decimal:
    """The price of `service` in `clinic` on `day` (one query, the booking's own definition)."""
    row = fetch(PriceOfDay, PRICE_OF_DAY_ONLY_SQL, [clinic.pk, service.pk, day])[0]
    return service.price if row.list_price is None else _money(row.list_price)


def prices_in_force(
    *, clinics: Iterable[Clinic], services: Iterable[Service]
) -> dict[tuple[int, int], Decimal]:
    """The price of each service in each clinic on the clinic's today, keyed (clinic id,
    service id); the network price where the clinic sets none (one query for all of them)."""
    clinics, services = list(clinics), list(services)
    today = {clinic.pk: clinic_today(clinic) for clinic in clinics}
    prices = {(c.pk, s.pk): s.price for c in clinics for s in services}
    if not prices:
        return prices
    rows = ServicePrice.objects.filter(
        clinic_id__in=today,
        service_id__in=[s.pk for s in services],
        valid_from__lte=max(today.values()),
    ).order_by("valid_from")
    for clinic_id, service_id, price, valid_from in rows.values_list(
        "clinic_id", "service_id", "price", "valid_from"
    ):
        # Oldest first: the last row not after the clinic's today is the one in force.
        if valid_from <= today[clinic_id]:
            prices[(clinic_id, service_id)] = price
    return prices


def _has_visits(patient: Patient) -> bool:
    return (
        Appointment.objects.filter(patient_id=patient.pk).exclude(status__in=UNDONE_STATUSES)
    ).exists()


def _fits(
    promotion: Promotion | AutomaticOffer, *, patient: Patient, day: datetime.date, visited: Any
) -> bool:
    """Whether an automatic promotion's segment takes `patient`; `visited()` asks (once, and
    only when a first-visit promotion is in play) whether they have been before."""
    if promotion.segment == PatientSegment.FIRST_VISIT:
        return not visited()
    if promotion.segment == PatientSegment.AGE_BAND:
        age = age_on(patient.birth_date, day)
        return (
            age is not None
            and (promotion.min_age is None or promotion.min_age <= age)
            and (promotion.max_age is None or age <= promotion.max_age)
        )
    return promotion.segment == PatientSegment.EVERYONE


def price_quote(
    *,
    clinic: Clinic,
    service: Service,
    patient: Patient,
    day: datetime.date,
    code: str = "",
) -> Quote:
    """The quote for booking `service` in `clinic` for `patient` on the booking day `day`.

    Without a code, one plain statement reads the price of the day with the live automatic
    promotions of the clinic and service (a first-visit one also asks whether the patient has
    been before); with one, the price and the code's promotion are two queries. The automatic
    promotion that fits and gives the largest discount applies (the newest on a tie); a code
    that does not fit raises `PromotionInvalid` with the reason.
    """
    code = normalize_code(code)
    if code:
        list_price = _money(price_on(clinic=clinic, service=service, day=day))
        promotion = promotion_for_code(
            code=code, clinic=clinic, service=service, patient=patient, day=day
        )
        return _quote(
            list_price,
            promotion.pk,
            promotion.name,
            promotion.kind,
            promotion.value,
            promotion.usage_limit,
        )
    offers = offers_on(clinic_id=clinic.pk, service_id=service.pk, day=day)
    row_price = offers[0].list_price
    list_price = _money(service.price if row_price is None else row_price)
    visits: list[bool] = []

    def visited() -> bool:
        if not visits:
            visits.append(_has_visits(patient))
        return visits[0]

    fitting = [
        offer
        for offer in offers
        if offer.id is not None and _fits(offer, patient=patient, day=day, visited=visited)
    ]
    if not fitting:
        return Quote(list_price=list_price)
    best = max(
        fitting,
        key=lambda p: (discount_of(kind=p.kind, value=_money(p.value), price=list_price), p.id),
    )
    assert best.id is not None  # noqa: S101 - fitting offers are promotions
    return _quote(list_price, best.id, best.name, best.kind, best.value, best.usage_limit)


class PriceOfDay(NamedTuple):
    """The clinic's price row in force on a day (None: the network price applies)."""

    list_price: Any


class AutomaticOffer(NamedTuple):
    """A row of `offers_on`: the price row of the day (None: the network price applies)
    and one live automatic promotion, or no promotion (its columns all None)."""

    list_price: Any
    id: int | None
    name: str
    kind: str
    value: Any
    usage_limit: int | None
    segment: str
    min_age: int | None
    max_age: int | None


# The one definition of the price in force on a day: the clinic's latest price row of the
# service not after the day, as a scalar subquery of (clinic id, service id, day); NULL when
# the clinic sets none, and the service's network price applies.
PRICE_OF_DAY_SQL = (
    "(SELECT sp.price FROM scheduling_serviceprice sp"
    " WHERE sp.clinic_id = %s AND sp.service_id = %s AND sp.valid_from <= %s"
    " ORDER BY sp.valid_from DESC LIMIT 1)"
)
# The price of the day with each automatic promotion live on the day: active, its period
# holding the day, with uses left, for every service or this one. A promo code's promotion is
# judged by the same rules in `promotion_for_code`, which also says which one failed.
OFFERS_SQL = (
    "SELECT " + PRICE_OF_DAY_SQL + " AS list_price,"  # noqa: S608 - constant text only
    " p.id, p.name, p.kind, p.value, p.usage_limit, p.segment, p.min_age, p.max_age"
    " FROM (SELECT 1 AS one) o LEFT JOIN scheduling_promotion p"
    " ON p.clinic_id = %s AND p.code = %s AND p.is_active = %s"
    " AND p.starts_on <= %s AND p.ends_on >= %s"
    " AND (p.usage_limit IS NULL OR p.times_used < p.usage_limit)"
    " AND (p.service_id IS NULL OR p.service_id = %s)"
    " ORDER BY p.id"
)
PRICE_OF_DAY_ONLY_SQL = "SELECT " + PRICE_OF_DAY_SQL + " AS list_price"  # noqa: S608 - constant


def offers_on(*, clinic_id: int, service_id: int, day: datetime.date) -> list[AutomaticOffer]:
    """The price of the day and the live automatic promotions of the clinic and service, in
    one plain statement (every booking asks; built through the ORM, the two reads cost several
    times what the database spends on them). At least one row: the promotion's columns are
    NULL when none is live. Parameters are ids, strings, booleans and dates only, which
    PostgreSQL and SQLite take as they are (`scheduling.selectors.availability.queries`)."""
    return fetch(
        AutomaticOffer,
        OFFERS_SQL,
        [clinic_id, service_id, day, clinic_id, "", True, day, day, service_id],
    )


def _money(value: object) -> Decimal:
    # SQLite hands back computed decimals as floats or strings; PostgreSQL as Decimal.
    return Decimal(str(value)).quantize(CENT)


def _quote(
    list_price: object,
    promotion_id: int,
    name: str,
    kind: str,
    value: object,
    limit: int | None,
) -> Quote:
    price = _money(list_price)
    return Quote(
        list_price=price,
        discount=discount_of(kind=kind, value=_money(value), price=price),
        promotion_id=promotion_id,
        promotion_name=name,
        limited=limit is not None,
    )


def promotion_for_code(
    *, code: str, clinic: Clinic, service: Service, patient: Patient, day: datetime.date
) -> Promotion:
    """The promotion of `code` if it fits this booking; else `PromotionInvalid` saying why."""
    promotion = Promotion.objects.filter(code=normalize_code(code)).first()
    if promotion is None:
        raise PromotionInvalid(
            _("This promo code is not known. Check it and try again."), code="promo_unknown"
        )
    if promotion.clinic_id != clinic.pk:
        raise PromotionInvalid(
            _("This promo code is not valid in this clinic."), code="promo_other_clinic"
        )
    if not promotion.is_active or promotion.ends_on < day:
        raise PromotionInvalid(_("This promo code has expired."), code="promo_expired")
    if promotion.starts_on > day:
        raise PromotionInvalid(
            _("This promo code works from %(day)s.")
            % {"day": date_format(promotion.starts_on, "SHORT_DATE_FORMAT")},
            code="promo_not_started",
        )
    if promotion.service_id is not None and promotion.service_id != service.pk:
        raise PromotionInvalid(
            _("This promo code is for another service."), code="promo_other_service"
        )
    if promotion.usage_limit is not None and promotion.times_used >= promotion.usage_limit:
        raise PromotionInvalid(_("This promo code has been used up."), code="promo_used_up")
    _check_segment(promotion, patient=patient, day=day)
    return promotion


def _check_segment(promotion: Promotion, *, patient: Patient, day: datetime.date) -> None:
    if _fits(promotion, patient=patient, day=day, visited=lambda: _has_visits(patient)):
        return
    if promotion.segment == PatientSegment.FIRST_VISIT:
        raise PromotionInvalid(
            _("This promo code is for a first visit to the network only."),
            code="promo_not_first_visit",
        )
    raise PromotionInvalid(
        _("This promo code is for patients of another age."), code="promo_other_age"
    )


# --- The clinic admin's catalogue pages ----------------------------------------------------------


@dataclass(frozen=True)
class CatalogueRow:
    service: Service
    price_today: Decimal
    next_price: ServicePrice | None


@dataclass(frozen=True)
class CatalogueSection:
    specialty_name: str
    rows: list[CatalogueRow]


def clinic_catalogue(*, clinic: Clinic, day: datetime.date) -> list[CatalogueSection]:
    """Every service (active or not) by specialty, with the clinic's price on `day` and the
    next scheduled change (two queries)."""
    prices: dict[int, list[ServicePrice]] = {}
    for row in ServicePrice.objects.filter(clinic_id=clinic.pk).order_by("valid_from"):
        prices.setdefault(row.service_id, []).append(row)
    sections: dict[int, CatalogueSection] = {}
    services = Service.objects.select_related("specialty").order_by(
        "specialty__name", "sort_order", "name"
    )
    for service in services:
        rows = prices.get(service.pk, [])
        current = [r for r in rows if r.valid_from <= day]
        later = [r for r in rows if r.valid_from > day]
        section = sections.setdefault(
            service.specialty_id, CatalogueSection(service.specialty.name, [])
        )
        section.rows.append(
            CatalogueRow(
                service=service,
                price_today=current[-1].price if current else service.price,
                next_price=later[0] if later else None,
            )
        )
    return list(sections.values())


@dataclass(frozen=True)
class PriceHistoryRow:
    row: ServicePrice
    state: str  # "scheduled", "in_force" or "past"


def price_history(*, clinic: Clinic, service: Service, day: datetime.date) -> list[PriceHistoryRow]:
    """The clinic's prices of `service`, latest first, each marked scheduled, in force or past."""
    rows = list(
        ServicePrice.objects.filter(clinic_id=clinic.pk, service_id=service.pk)
        .select_related("created_by")
        .order_by("-valid_from")
    )
    history = []
    in_force_seen = False
    for row in rows:
        if row.valid_from > day:
            state = "scheduled"
        elif not in_force_seen:
            state, in_force_seen = "in_force", True
        else:
            state = "past"
        history.append(PriceHistoryRow(row=row, state=state))
    return history


def clinic_promotions(*, clinic: Clinic) -> QuerySet[Promotion]:
    """The clinic's promotions, latest first, with how many visits each went into."""
    return (
        Promotion.objects.filter(clinic_id=clinic.pk)
        .select_related("service")
        .annotate(uses=Count("appointments"))
        .order_by("-starts_on", "name")
    )
