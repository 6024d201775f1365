"""Prices with effective dates, promotions and promo codes, and what a booking pays."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from portal.models import AuditEvent
from scheduling.choices import AppointmentChannel, DiscountKind, PatientSegment
from scheduling.errors import InvalidInput, PromotionInvalid
from scheduling.models import Appointment, Promotion, ServicePrice
from scheduling.selectors.pricing import age_on, discount_of, price_on, price_quote
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.pricing import (
    promotion_save,
    promotion_take,
    service_price_delete,
    service_price_schedule,
    service_update,
)
from tests.factories import PatientFactory, ServiceFactory
from tests.scheduling.conftest import local

D = Decimal
# The clock's today in clinic A (Irkutsk): Monday 1 March 2027.
TODAY = datetime.date(2027, 3, 1)


def book(patient, doctor, service, start, **kw):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
        **kw,
    )


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


def price(clinic, service, amount, valid_from):
    return ServicePrice.objects.create(
        clinic=clinic, service=service, price=D(amount), valid_from=valid_from
    )


def promo(clinic, **kw):
    fields = {
        "name": "Весна",
        "kind": DiscountKind.PERCENT,
        "value": D(10),
        "starts_on": TODAY,
        "ends_on": TODAY + datetime.timedelta(days=30),
    } | kw
    return Promotion.objects.create(clinic=clinic, **fields)


# --- The price of a day --------------------------------------------------------------------------


def test_without_a_clinic_price_the_network_price_applies(clinic_a, service):
    assert price_on(clinic=clinic_a, service=service, day=TODAY) == service.price


def test_the_latest_price_not_after_the_day_applies(clinic_a, clinic_b, service):
    price(clinic_a, service, 2000, TODAY - datetime.timedelta(days=30))
    price(clinic_a, service, 2200, TODAY)
    price(clinic_a, service, 2600, TODAY + datetime.timedelta(days=7))
    price(clinic_b, service, 9999, TODAY)
    assert price_on(clinic=clinic_a, service=service, day=TODAY) == D(2200)
    assert price_on(clinic=clinic_a, service=service, day=TODAY + datetime.timedelta(days=6)) == D(
        2200
    )
    assert price_on(clinic=clinic_a, service=service, day=TODAY + datetime.timedelta(days=7)) == D(
        2600
    )


def test_a_booking_takes_the_price_of_its_day_not_a_future_one(
    clock, clinic_a, doctor, service, patient, tue9
):
    price(clinic_a, service, 2200, TODAY)
    price(clinic_a, service, 2600, TODAY + datetime.timedelta(days=1))  # the visit's day
    appointment = book(patient, doctor, service, tue9)
    appointment.refresh_from_db()
    assert (appointment.price, appointment.discount, appointment.promotion) == (D(2200), 0, None)
    assert appointment.list_price == D(2200)


def test_a_later_price_change_leaves_booked_visits_alone(
    clock, clinic_a, doctor, service, patient, tue9
):
    appointment = book(patient, doctor, service, tue9)
    service_price_schedule(
        clinic=clinic_a, service=service, price=D(5000), valid_from=TODAY, actor=None
    )
    appointment.refresh_from_db()
    assert appointment.price == service.price


def test_discounts_are_rounded_to_kopecks_and_never_exceed_the_price():
    assert discount_of(kind=DiscountKind.PERCENT, value=D("12.5"), price=D("999.99")) == D("125.00")
    assert discount_of(kind=DiscountKind.FIXED, value=D(500), price=D(300)) == D(300)


def test_age_is_counted_in_whole_years():
    assert age_on(None, TODAY) is None
    assert age_on(datetime.date(2000, 3, 2), TODAY) == 26
    assert age_on(datetime.date(2000, 3, 1), TODAY) == 27


# --- Automatic promotions ------------------------------------------------------------------------


def test_the_largest_fitting_automatic_discount_applies(
    clock, clinic_a, clinic_b, doctor, service, patient, tue9
):
    other = ServiceFactory()
    promo(clinic_a, name="10%", value=D(10))
    best = promo(clinic_a, name="−500 ₽", kind=DiscountKind.FIXED, value=D(500), service=service)
    promo(clinic_a, name="other service", value=D(90), service=other)
    promo(clinic_b, name="other clinic", value=D(90))
    promo(clinic_a, name="inactive", value=D(90), is_active=False)
    promo(clinic_a, name="coded", value=D(90), code="BIG")
    promo(clinic_a, name="later", value=D(90), starts_on=TODAY + datetime.timedelta(days=1))
    promo(clinic_a, name="used up", value=D(90), usage_limit=1, times_used=1)
    appointment = book(patient, doctor, service, tue9)
    appointment.refresh_from_db()
    assert appointment.promotion == best
    assert (appointment.list_price, appointment.discount, appointment.price) == (
        D(2500),
        D(500),
        D(2000),
    )
    best.refresh_from_db()
    assert best.times_used == 0  # unlimited promotions are not counted on the booking path


def test_a_first_visit_promotion_skips_patients_who_have_been_before(
    clock, clinic_a, doctor, service, patient, tue9
):
    first = promo(clinic_a, segment=PatientSegment.FIRST_VISIT, value=D(20))
    one = book(patient, doctor, service, tue9)
    assert one.promotion_id == first.pk
    two = book(patient, doctor, service, tue9 + datetime.timedelta(hours=1))
    assert (two.promotion_id, two.price) == (None, service.price)


def test_a_cancelled_visit_does_not_count_as_having_been(
    clock, clinic_a, doctor, service, patient, tue9
):
    one = book(patient, doctor, service, tue9)
    appointment_cancel(appointment=one, actor=patient.user)
    promo(clinic_a, segment=PatientSegment.FIRST_VISIT, value=D(20))
    quote = price_quote(clinic=clinic_a, service=service, patient=patient, day=TODAY)
    assert quote.discount == D(500)


def test_an_age_band_promotion_fits_by_age_on_the_booking_day(clinic_a, service):
    band = promo(clinic_a, segment=PatientSegment.AGE_BAND, min_age=60, max_age=None, value=D(15))
    senior = PatientFactory(birth_date=datetime.date(1960, 1, 1))
    young = PatientFactory(birth_date=datetime.date(2000, 1, 1))
    unknown = PatientFactory(birth_date=None)
    assert price_quote(
        clinic=clinic_a, service=service, patient=senior, day=TODAY
    ).promotion_id == (band.pk)
    assert price_quote(clinic=clinic_a, service=service, patient=young, day=TODAY).discount == 0
    assert price_quote(clinic=clinic_a, service=service, patient=unknown, day=TODAY).discount == 0


def test_a_limited_automatic_promotion_counts_its_uses(
    clock, clinic_a, doctor, service, patient, tue9
):
    limited = promo(clinic_a, usage_limit=1)
    book(patient, doctor, service, tue9)
    limited.refresh_from_db()
    assert limited.times_used == 1
    second = book(patient, doctor, service, tue9 + datetime.timedelta(hours=1))
    assert second.promotion_id is None


# --- Promo codes ---------------------------------------------------------------------------------


def test_a_promo_code_gives_its_discount_whatever_its_case(
    clock, clinic_a, doctor, service, patient, tue9
):
    promo(clinic_a, name="auto", value=D(50))
    coded = promo(clinic_a, code="SPRING", kind=DiscountKind.FIXED, value=D(300), usage_limit=5)
    appointment = book(patient, doctor, service, tue9, promo_code=" spring ")
    appointment.refresh_from_db()
    assert (appointment.promotion, appointment.discount, appointment.price) == (
        coded,
        D(300),
        D(2200),
    )
    coded.refresh_from_db()
    assert coded.times_used == 1


def test_a_fully_discounted_visit_waits_for_no_payment(
    clock, clinic_a, doctor, prepaid, patient, tue9
):
    promo(clinic_a, code="FREE", value=D(100))
    appointment = book(patient, doctor, prepaid, tue9, promo_code="FREE")
    assert (appointment.price, appointment.payment_due_at) == (0, None)


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"code": "OTHER"}, "promo_unknown", "not known"),
        ({"is_active": False}, "promo_expired", "expired"),
        (
            {
                "starts_on": TODAY - datetime.timedelta(days=9),
                "ends_on": TODAY - datetime.timedelta(days=1),
            },
            "promo_expired",
            "expired",
        ),
        ({"starts_on": TODAY + datetime.timedelta(days=2)}, "promo_not_started", "works from"),
        ({"usage_limit": 2, "times_used": 2}, "promo_used_up", "used up"),
        ({"segment": PatientSegment.AGE_BAND, "max_age": 17}, "promo_other_age", "another age"),
        ({"segment": PatientSegment.AGE_BAND, "min_age": 90}, "promo_other_age", "another age"),
    ],
)
def test_a_promo_code_that_does_not_fit_books_nothing(
    clock, clinic_a, doctor, service, patient, tue9, fields, code, message
):
    # An adult of 42 fits neither band; the factory's random birth date could.
    patient.birth_date = datetime.date(1985, 1, 1)
    patient.save()
    promo(clinic_a, **({"code": "CODE"} | fields))
    with translation.override("en"), pytest.raises(PromotionInvalid, match=message) as caught:
        book(patient, doctor, service, tue9, promo_code="CODE")
    assert caught.value.code == code
    assert not Appointment.objects.exists()


def test_a_promo_code_of_another_clinic_or_service_is_refused(
    clock, clinic_a, clinic_b, doctor, service, patient, tue9
):
    promo(clinic_b, code="ARBAT")
    promo(clinic_a, code="ECHO", service=ServiceFactory())
    with pytest.raises(PromotionInvalid) as elsewhere:
        book(patient, doctor, service, tue9, promo_code="arbat")
    with pytest.raises(PromotionInvalid) as other_service:
        book(patient, doctor, service, tue9, promo_code="echo")
    assert (elsewhere.value.code, other_service.value.code) == (
        "promo_other_clinic",
        "promo_other_service",
    )


def test_a_first_visit_code_is_refused_to_a_returning_patient(
    clock, clinic_a, doctor, service, patient, tue9
):
    promo(clinic_a, code="HELLO", segment=PatientSegment.FIRST_VISIT)
    assert book(patient, doctor, service, tue9, promo_code="HELLO").discount == D(250)
    with pytest.raises(PromotionInvalid) as caught:
        book(patient, doctor, service, tue9 + datetime.timedelta(hours=1), promo_code="HELLO")
    assert caught.value.code == "promo_not_first_visit"


def test_an_age_band_code_fits_a_patient_in_the_band(clinic_a, service):
    promo(clinic_a, code="KIDS", segment=PatientSegment.AGE_BAND, min_age=5, max_age=17)
    child = PatientFactory(birth_date=datetime.date(2017, 5, 14))
    quote = price_quote(clinic=clinic_a, service=service, patient=child, day=TODAY, code="kids")
    assert (quote.list_price, quote.discount, quote.price) == (D(2500), D(250), D(2250))


def test_a_limited_code_used_up_meanwhile_is_refused(clinic_a):
    limited = promo(clinic_a, code="ONCE", usage_limit=1)
    promotion_take(promotion_id=limited.pk)
    with pytest.raises(PromotionInvalid) as caught:
        promotion_take(promotion_id=limited.pk)
    assert caught.value.code == "promo_used_up"
    limited.refresh_from_db()
    assert limited.times_used == 1


# --- Keeping the catalogue -----------------------------------------------------------------------


def test_a_price_is_scheduled_corrected_and_removed_before_it_applies(
    clock, clinic_a, service, clinic_admin_a
):
    later = TODAY + datetime.timedelta(days=10)
    row = service_price_schedule(
        clinic=clinic_a, service=service, price=D(3000), valid_from=later, actor=clinic_admin_a
    )
    again = service_price_schedule(
        clinic=clinic_a, service=service, price=D(3100), valid_from=later, actor=clinic_admin_a
    )
    assert again.pk == row.pk
    assert again.price == D(3100)
    assert again.created_by == clinic_admin_a
    assert list(
        AuditEvent.objects.filter(object_type="scheduling.serviceprice")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["create", "update"]
    service_price_delete(row=again, actor=clinic_admin_a)
    assert not ServicePrice.objects.exists()


def test_prices_cannot_be_negative_start_in_the_past_or_be_removed_once_in_force(
    clock, clinic_a, service
):
    with pytest.raises(InvalidInput) as negative:
        service_price_schedule(
            clinic=clinic_a, service=service, price=D(-1), valid_from=TODAY, actor=None
        )
    with pytest.raises(InvalidInput) as past:
        service_price_schedule(
            clinic=clinic_a,
            service=service,
            price=D(1),
            valid_from=TODAY - datetime.timedelta(days=1),
            actor=None,
        )
    today = service_price_schedule(
        clinic=clinic_a, service=service, price=D(1), valid_from=TODAY, actor=None
    )
    with pytest.raises(InvalidInput) as in_force:
        service_price_delete(row=today, actor=None)
    assert (negative.value.code, past.value.code, in_force.value.code) == (
        "negative_price",
        "price_in_past",
        "price_in_force",
    )
    assert ServicePrice.objects.get().price == D(1)


def test_a_service_definition_is_changed_with_an_audit_row(service, network_admin):
    service_update(service=service, actor=network_admin, name="Новое имя", duration_minutes=40)
    service_update(service=service, actor=network_admin, name="Новое имя")  # nothing changes
    service.refresh_from_db()
    assert (service.name, service.duration_minutes) == ("Новое имя", 40)
    assert AuditEvent.objects.filter(object_type="scheduling.service").count() == 1


def test_a_service_update_refuses_unknown_fields_and_short_visits(service):
    with pytest.raises(InvalidInput) as unknown:
        service_update(service=service, actor=None, price=D(1))
    with pytest.raises(InvalidInput) as short:
        service_update(service=service, actor=None, duration_minutes=4)
    assert (unknown.value.code, short.value.code) == ("unknown_field", "too_short")


def promotion_fields(**kw):
    return {
        "name": "Осень",
        "kind": DiscountKind.PERCENT,
        "value": D(10),
        "starts_on": TODAY,
        "ends_on": TODAY,
        "code": "",
        "segment": PatientSegment.EVERYONE,
    } | kw


def test_a_promotion_is_created_and_changed(clinic_a, clinic_admin_a, service):
    made = promotion_save(
        clinic=clinic_a, actor=clinic_admin_a, **promotion_fields(code=" autumn ", service=service)
    )
    assert made.code == "AUTUMN"
    changed = promotion_save(
        clinic=clinic_a, actor=clinic_admin_a, promotion=made, value=D(15), code="autumn"
    )
    assert (changed.pk, changed.value) == (made.pk, D(15))
    assert list(
        AuditEvent.objects.filter(object_type="scheduling.promotion")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["create", "update"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"value": D(0)}, "no_discount"),
        ({"value": None}, "no_discount"),
        ({"value": D(101)}, "over_100_percent"),
        ({"ends_on": TODAY - datetime.timedelta(days=1)}, "period_order"),
        ({"segment": PatientSegment.AGE_BAND}, "no_age_band"),
        ({"segment": PatientSegment.AGE_BAND, "min_age": 18, "max_age": 5}, "age_band_order"),
        ({"code": "TAKEN"}, "code_taken"),
        ({"colour": "red"}, "unknown_field"),
    ],
)
def test_a_promotion_that_makes_no_sense_is_refused(clinic_a, fields, code):
    promo(clinic_a, code="TAKEN")
    with pytest.raises(InvalidInput) as caught:
        promotion_save(clinic=clinic_a, actor=None, **promotion_fields(**fields))
    assert caught.value.code == code
    assert Promotion.objects.count() == 1


def test_a_promotion_needs_an_active_service_and_stays_in_its_clinic(clinic_a, clinic_b):
    gone = ServiceFactory(is_active=False)
    with pytest.raises(InvalidInput) as inactive:
        promotion_save(clinic=clinic_a, actor=None, **promotion_fields(service=gone))
    theirs = promo(clinic_b)
    with pytest.raises(InvalidInput) as other:
        promotion_save(clinic=clinic_a, actor=None, promotion=theirs, value=D(5))
    assert (inactive.value.code, other.value.code) == ("inactive_service", "other_clinic")
    # An age band may be open at one end; a fixed discount may exceed 100 roubles.
    open_band = promotion_save(
        clinic=clinic_a,
        actor=None,
        **promotion_fields(
            segment=PatientSegment.AGE_BAND, max_age=17, kind=DiscountKind.FIXED, value=D(500)
        ),
    )
    assert open_band.min_age is None


def test_the_price_history_marks_scheduled_in_force_and_past_prices(clinic_a, service):
    from scheduling.selectors.pricing import price_history

    for days, amount in ((-60, 2000), (-10, 2200), (10, 2600)):
        price(clinic_a, service, amount, TODAY + datetime.timedelta(days=days))
    history = price_history(clinic=clinic_a, service=service, day=TODAY)
    assert [(item.row.price, item.state) for item in history] == [
        (D(2600), "scheduled"),
        (D(2200), "in_force"),
        (D(2000), "past"),
    ]
