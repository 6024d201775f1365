"""Every reader of "the price and promotions in force on a day" agrees with the booking's.

The booking quotes through one plain statement (`offers_on`); the desk's price, a promo code's
quote, the catalogue and the booking pages' price list read the same thing other ways. These
tests walk the days around each effective date and each promotion's rules and compare them.
"""

import datetime
from decimal import Decimal

import pytest

from scheduling.choices import AppointmentChannel, DiscountKind, PatientSegment
from scheduling.errors import PromotionInvalid
from scheduling.models import Promotion, ServicePrice
from scheduling.selectors.pricing import (
    clinic_catalogue,
    price_on,
    price_quote,
    prices_in_force,
)
from scheduling.services.booking import appointment_book
from tests.factories import PatientFactory, ServiceFactory
from tests.scheduling.conftest import local

D = Decimal
TODAY = datetime.date(2027, 3, 1)  # the clock's today in clinic A
DAYS = [TODAY + datetime.timedelta(days=n) for n in (-31, -30, -1, 0, 1, 6, 7, 8)]
# A promotion valid every day looked at, for quoting through a promo code.
ALWAYS = {"starts_on": DAYS[0], "ends_on": DAYS[-1]}


def day_price(clinic, service, amount, valid_from):
    ServicePrice.objects.create(
        clinic=clinic, service=service, price=D(amount), valid_from=valid_from
    )


def catalogue_price(clinic, service, day):
    rows = [row for section in clinic_catalogue(clinic=clinic, day=day) for row in section.rows]
    return next(row.price_today for row in rows if row.service == service)


@pytest.fixture
def priced(clinic_a, clinic_b, service):
    """Clinic A changes its price twice around today; clinic B sets its own; a second service
    has no clinic price anywhere."""
    day_price(clinic_a, service, 2000, TODAY - datetime.timedelta(days=30))
    day_price(clinic_a, service, 2200, TODAY)
    day_price(clinic_a, service, 2600, TODAY + datetime.timedelta(days=7))
    day_price(clinic_b, service, 9999, TODAY)
    return [service, ServiceFactory(price=D(1700))]


def promotion(**fields):
    return Promotion.objects.create(
        **{"name": "Весна", "kind": DiscountKind.PERCENT, "value": D(10)} | ALWAYS | fields
    )


@pytest.mark.parametrize("day", DAYS)
def test_every_reader_of_the_price_of_a_day_agrees(clinic_a, clinic_b, priced, day):
    patient = PatientFactory()
    for clinic in (clinic_a, clinic_b):
        promotion(clinic=clinic, code=f"CODE{clinic.pk}")
        for service in priced:
            booking = price_quote(clinic=clinic, service=service, patient=patient, day=day)
            coded = price_quote(
                clinic=clinic, service=service, patient=patient, day=day, code=f"code{clinic.pk}"
            )
            assert price_on(clinic=clinic, service=service, day=day) == booking.list_price
            assert coded.list_price == booking.list_price
            assert catalogue_price(clinic, service, day) == booking.list_price


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (TODAY - datetime.timedelta(days=31), D(2500)),  # before any: the network price
        (TODAY - datetime.timedelta(days=30), D(2000)),
        (TODAY - datetime.timedelta(days=1), D(2000)),
        (TODAY, D(2200)),
        (TODAY + datetime.timedelta(days=6), D(2200)),
        (TODAY + datetime.timedelta(days=7), D(2600)),
    ],
)
def test_the_price_of_a_day_is_the_latest_row_not_after_it(
    clinic_a, clinic_b, priced, day, expected
):
    service, unpriced = priced
    assert price_on(clinic=clinic_a, service=service, day=day) == expected
    assert price_on(clinic=clinic_a, service=unpriced, day=day) == D(1700)
    assert price_on(clinic=clinic_b, service=service, day=day) == (
        D(9999) if day >= TODAY else D(2500)
    )


def test_the_booking_pages_price_list_agrees_on_today(clock, clinic_a, clinic_b, priced):
    patient = PatientFactory()
    listed = prices_in_force(clinics=[clinic_a, clinic_b], services=priced)
    for clinic in (clinic_a, clinic_b):
        today = clock().astimezone(clinic.tz).date()
        for service in priced:
            quote = price_quote(clinic=clinic, service=service, patient=patient, day=today)
            assert listed[(clinic.pk, service.pk)] == quote.list_price


# The terms of a promotion, and on how many of the (day, patient) pairs tried it applies: the
# same terms are made twice, once automatic and once behind a code, and every pair is quoted
# both ways. Four patients (a newcomer of 27, a returning patient of 42, a newcomer of 67, a
# newcomer of unknown age) times the eight days looked at: 32 pairs.
CASES = {
    "period": (
        {
            "starts_on": TODAY - datetime.timedelta(days=1),
            "ends_on": TODAY + datetime.timedelta(days=6),
        },
        16,
    ),
    "inactive": ({"is_active": False}, 0),
    "used up": ({"usage_limit": 1, "times_used": 1}, 0),
    "uses left": ({"usage_limit": 2, "times_used": 1}, 32),
    "this service": ({"service": "this"}, 32),
    "another service": ({"service": "other"}, 0),
    "another clinic": ({"clinic": "other"}, 0),
    "first visit": ({"segment": PatientSegment.FIRST_VISIT}, 24),
    "age band": ({"segment": PatientSegment.AGE_BAND, "min_age": 18, "max_age": 60}, 16),
    "age from": ({"segment": PatientSegment.AGE_BAND, "min_age": 60}, 8),
    "fixed sum": ({"kind": DiscountKind.FIXED, "value": D(300)}, 32),
}


@pytest.fixture
def patients(clock, clinic_a, doctor, service):
    returning = PatientFactory(birth_date=datetime.date(1985, 1, 1))
    appointment_book(
        patient=returning,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel=AppointmentChannel.PHONE,
        actor=None,
    )
    return [
        PatientFactory(birth_date=datetime.date(2000, 1, 1)),
        returning,
        PatientFactory(birth_date=datetime.date(1960, 1, 1)),
        PatientFactory(birth_date=None),
    ]


@pytest.mark.parametrize("case", CASES)
def test_a_promotion_applies_automatically_exactly_when_its_code_would(
    clinic_a, clinic_b, service, patients, case
):
    terms, expected = CASES[case]
    terms = terms | {
        "clinic": clinic_b if terms.get("clinic") == "other" else clinic_a,
        "service": {"this": service, "other": ServiceFactory()}.get(terms.get("service")),
    }
    automatic = promotion(**terms)
    promotion(**terms, code="SAME")
    applied = 0
    for day in DAYS:
        for patient in patients:
            quote = price_quote(clinic=clinic_a, service=service, patient=patient, day=day)
            try:
                coded = price_quote(
                    clinic=clinic_a, service=service, patient=patient, day=day, code="same"
                )
            except PromotionInvalid:
                coded = None
            assert (quote.promotion_id == automatic.pk) == (coded is not None), (day, patient)
            if coded is not None:
                assert (quote.list_price, quote.discount) == (coded.list_price, coded.discount)
                applied += 1
    assert applied == expected
