"""The clinic admin's catalogue pages, and a promo code from the confirm page to the receipt."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from portal.choices import Role
from scheduling.choices import DiscountKind, PatientSegment
from scheduling.models import Appointment, Hold, Promotion, ServicePrice
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.factories import ClinicFactory, make_staff

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date(2027, 3, 1)  # the clock's day in clinic A
TUE = datetime.date(2027, 3, 2)
CATALOGUE = reverse("scheduling:catalogue")


@pytest.fixture
def as_user():
    """Signed-in clients that read the pages in English (the site's default is Russian)."""

    def make(user):
        client = client_for(user)
        client.cookies["django_language"] = "en"
        return client

    return make


@pytest.fixture
def clinic_admin_b(clinic_b):
    return make_staff(Role.CLINIC_ADMIN, clinic_b, email="clinicadmin-b@example.test")


def prices_url(clinic, service):
    return reverse("scheduling:catalogue_prices", args=[clinic.public_id, service.public_id])


def promo(clinic, **kw):
    fields = {
        "name": "Весна",
        "kind": DiscountKind.PERCENT,
        "value": D(10),
        "starts_on": TODAY,
        "ends_on": TODAY + datetime.timedelta(days=30),
    } | kw
    return Promotion.objects.create(clinic=clinic, **fields)


def promotion_post(**kw):
    return {
        "name": "Первый визит",
        "service": "",
        "kind": "fixed",
        "value": "500",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-31",
        "code": "",
        "segment": "everyone",
        "min_age": "",
        "max_age": "",
        "usage_limit": "",
        "is_active": "on",
    } | kw


# --- Who may come in -----------------------------------------------------------------------------


def test_a_clinic_admin_sees_the_services_with_todays_and_next_prices(
    clock, as_user, clinic_admin_a, clinic_a, service
):
    ServicePrice.objects.create(clinic=clinic_a, service=service, price=D(2100), valid_from=TODAY)
    ServicePrice.objects.create(
        clinic=clinic_a, service=service, price=D(2700), valid_from=TODAY + datetime.timedelta(9)
    )
    page = as_user(clinic_admin_a).get(CATALOGUE)
    assert page.status_code == 200
    text = page.content.decode()
    assert service.name in text and service.specialty.name in text
    assert "2,100" in text and "2,700" in text
    assert "the network admin edits" in text  # says who edits the shared definitions
    assert reverse("scheduling:catalogue_service", args=[service.public_id]) not in text


def test_the_network_admin_picks_a_clinic_and_may_edit_services(
    clock, as_user, network_admin, clinic_a, clinic_b, service
):
    client = as_user(network_admin)
    page = client.get(CATALOGUE, {"clinic": str(clinic_b.public_id)})
    assert page.status_code == 200
    assert page.context["clinic"] == clinic_b
    assert reverse("scheduling:catalogue_service", args=[service.public_id]) in (
        page.content.decode()
    )


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "head_nurse_a", "director"])
def test_other_staff_are_refused(clock, as_user, request, persona, clinic_a, service):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(CATALOGUE).status_code == 403
    assert client.get(prices_url(clinic_a, service)).status_code == 403
    url = reverse("scheduling:catalogue_promotions", args=[clinic_a.public_id])
    assert client.get(url).status_code == 403


def test_patients_are_refused_and_anonymous_visitors_sent_to_sign_in(
    clock, as_user, client, patient, clinic_a, service
):
    assert as_user(patient.user).get(CATALOGUE).status_code == 403
    assert as_user(patient.user).post(prices_url(clinic_a, service)).status_code == 403
    answer = client.get(prices_url(clinic_a, service))
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_the_clinic_admin_of_b_keeps_away_from_as_prices_and_promotions(
    clock, as_user, clinic_admin_b, clinic_a, service
):
    client = as_user(clinic_admin_b)
    assert client.get(CATALOGUE, {"clinic": str(clinic_a.public_id)}).status_code == 403
    posted = client.post(prices_url(clinic_a, service), {"price": "1", "valid_from": "2027-03-05"})
    assert posted.status_code == 403
    future = ServicePrice.objects.create(
        clinic=clinic_a, service=service, price=D(1), valid_from=TODAY + datetime.timedelta(5)
    )
    delete = reverse("scheduling:catalogue_price_delete", args=[future.public_id])
    assert client.post(delete).status_code == 404
    theirs = promo(clinic_a)
    edit = reverse("scheduling:catalogue_promotion", args=[theirs.public_id])
    assert client.get(edit).status_code == 404
    assert client.post(edit, promotion_post(value="99")).status_code == 404
    new = reverse("scheduling:catalogue_promotion_new", args=[clinic_a.public_id])
    assert client.post(new, promotion_post()).status_code == 403
    assert ServicePrice.objects.count() == 1
    theirs.refresh_from_db()
    assert theirs.value == D(10)
    assert Promotion.objects.count() == 1
    # Their own clinic is theirs to keep.
    assert client.get(CATALOGUE).context["clinic"] == clinic_admin_b.memberships.get().clinic


def test_unknown_clinics_and_services_are_404(clock, as_user, clinic_admin_a, clinic_a, service):
    client = as_user(clinic_admin_a)
    assert client.get(CATALOGUE, {"clinic": "nonsense"}).status_code == 404
    other = ClinicFactory()
    assert client.get(prices_url(other, service)).status_code == 403
    url = reverse(
        "scheduling:catalogue_prices",
        args=[clinic_a.public_id, "00000000-0000-0000-0000-000000000000"],
    )
    assert client.get(url).status_code == 404


def test_without_any_active_clinic_the_page_says_so(as_user, network_admin):
    page = as_user(network_admin).get(CATALOGUE)
    assert page.status_code == 200
    assert "no active clinic" in page.content.decode()


# --- Prices --------------------------------------------------------------------------------------


def test_a_clinic_admin_schedules_a_price_and_removes_it_before_it_applies(
    clock, as_user, clinic_admin_a, clinic_a, service
):
    client = as_user(clinic_admin_a)
    url = prices_url(clinic_a, service)
    assert client.get(url).status_code == 200
    saved = client.post(url, {"price": "2990.50", "valid_from": "2027-03-15"})
    assert saved.status_code == 302
    row = ServicePrice.objects.get()
    assert (row.clinic, row.price, row.valid_from, row.created_by) == (
        clinic_a,
        D("2990.50"),
        datetime.date(2027, 3, 15),
        clinic_admin_a,
    )
    page = client.get(url)
    assert "scheduled" in page.content.decode()
    removed = client.post(reverse("scheduling:catalogue_price_delete", args=[row.public_id]))
    assert removed.status_code == 302
    assert not ServicePrice.objects.exists()


def test_a_price_in_force_stays_and_bad_prices_are_refused_with_a_message(
    clock, as_user, clinic_admin_a, clinic_a, service
):
    client = as_user(clinic_admin_a)
    url = prices_url(clinic_a, service)
    past = client.post(url, {"price": "100", "valid_from": "2027-02-01"}, follow=True)
    assert "past prices stay as they were" in past.content.decode()
    for bad in ({"price": "abc", "valid_from": "2027-03-05"}, {"price": "-5", "valid_from": "x"}):
        answer = client.post(url, bad)
        assert answer.status_code == 200
        assert answer.context["form"].errors
    assert not ServicePrice.objects.exists()
    today = ServicePrice.objects.create(
        clinic=clinic_a, service=service, price=D(1), valid_from=TODAY
    )
    refused = client.post(
        reverse("scheduling:catalogue_price_delete", args=[today.public_id]), follow=True
    )
    assert "have not taken effect yet" in refused.content.decode()
    assert ServicePrice.objects.count() == 1
    assert (
        client.get(reverse("scheduling:catalogue_price_delete", args=[today.public_id])).status_code
        == 405
    )


# --- Services ------------------------------------------------------------------------------------


def test_only_the_network_admin_edits_a_service_definition(
    clock, as_user, clinic_admin_a, network_admin, clinic_a, service
):
    url = reverse("scheduling:catalogue_service", args=[service.public_id])
    assert as_user(clinic_admin_a).get(url).status_code == 403
    client = as_user(network_admin)
    assert client.get(url).status_code == 200
    saved = client.post(
        url,
        {
            "name": "Приём терапевта",
            "duration_minutes": "40",
            "preparation": "Натощак",
            "sort_order": "1",
            "clinic": str(clinic_a.public_id),
        },
    )
    assert saved.status_code == 302 and str(clinic_a.public_id) in saved["Location"]
    service.refresh_from_db()
    assert (service.name, service.duration_minutes, service.is_active) == (
        "Приём терапевта",
        40,
        False,
    )
    short = client.post(url, {"name": "x", "duration_minutes": "3", "sort_order": "1"})
    assert short.status_code == 200 and short.context["form"].errors
    service.refresh_from_db()
    assert service.duration_minutes == 40
    back = client.post(url, {"name": "y", "duration_minutes": "30", "sort_order": "1"})
    assert back["Location"] == CATALOGUE


# --- Promotions ----------------------------------------------------------------------------------


def test_a_clinic_admin_creates_and_changes_a_promotion(
    clock, as_user, clinic_admin_a, clinic_a, service
):
    client = as_user(clinic_admin_a)
    listing = reverse("scheduling:catalogue_promotions", args=[clinic_a.public_id])
    assert "no promotions yet" in client.get(listing).content.decode()
    new = reverse("scheduling:catalogue_promotion_new", args=[clinic_a.public_id])
    assert client.get(new).status_code == 200
    made = client.post(new, promotion_post(code=" hello ", service=str(service.pk)))
    assert made.status_code == 302
    promotion = Promotion.objects.get()
    assert (promotion.clinic, promotion.code, promotion.service) == (clinic_a, "HELLO", service)
    assert "HELLO" in client.get(listing).content.decode()
    edit = reverse("scheduling:catalogue_promotion", args=[promotion.public_id])
    assert client.get(edit).status_code == 200
    client.post(edit, promotion_post(code="HELLO", value="700", usage_limit="10"))
    promotion.refresh_from_db()
    assert (promotion.value, promotion.usage_limit, promotion.service) == (D(700), 10, None)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "percent", "value": "150"},
        {"value": "0"},
        {"ends_on": "2027-02-01"},
        {"segment": "age_band"},
        {"segment": "nobody"},
        {"starts_on": "yesterday"},
    ],
)
def test_a_promotion_that_makes_no_sense_is_refused_on_the_form(
    clock, as_user, clinic_admin_a, clinic_a, fields
):
    new = reverse("scheduling:catalogue_promotion_new", args=[clinic_a.public_id])
    answer = as_user(clinic_admin_a).post(new, promotion_post(**fields))
    assert answer.status_code == 200
    assert answer.context["form"].errors
    assert not Promotion.objects.exists()


def test_a_promo_code_of_another_promotion_is_refused(
    clock, as_user, clinic_admin_a, clinic_a, clinic_b
):
    promo(clinic_b, code="TAKEN")
    new = reverse("scheduling:catalogue_promotion_new", args=[clinic_a.public_id])
    answer = as_user(clinic_admin_a).post(new, promotion_post(code="taken"))
    assert answer.status_code == 200
    assert Promotion.objects.count() == 1


def test_the_catalogue_reads_in_russian(clock, as_user, clinic_admin_a, clinic_a, service):
    client = as_user(clinic_admin_a)
    client.cookies["django_language"] = "ru"
    with translation.override("ru"):
        page = client.get(CATALOGUE, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Услуги и цены" in page.content.decode()


# --- A promo code from the confirm page to the visit page and the PDF ----------------------------


def hold(client, doctor, service):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    client.post(reverse("scheduling:hold"), {"slot": slot.slot_id})
    return reverse("scheduling:confirm", args=[Hold.objects.get().public_id])


def test_a_patient_applies_a_code_sees_the_discount_and_books_at_the_lower_price(
    clock, as_user, clinic_a, doctor, service, patient
):
    ServicePrice.objects.create(clinic=clinic_a, service=service, price=D(3000), valid_from=TODAY)
    promo(clinic_a, name="Весенняя скидка", code="SPRING", kind=DiscountKind.FIXED, value=D(600))
    client = as_user(patient.user)
    url = hold(client, doctor, service)
    page = client.get(url)
    assert page.context["quote"].price == D(3000)
    applied = client.post(
        url, {"patient": str(patient.public_id), "promo_code": "spring", "apply_code": "1"}
    )
    assert applied.status_code == 200
    text = applied.content.decode()
    assert "Весенняя скидка" in text and "3,000" in text and "2,400" in text
    assert not Appointment.objects.exists()
    booked = client.post(url, {"patient": str(patient.public_id), "promo_code": "spring"})
    appointment = Appointment.objects.get()
    assert booked["Location"] == reverse("scheduling:visit", args=[appointment.public_id])
    assert (appointment.price, appointment.discount, appointment.promotion.code) == (
        D(2400),
        D(600),
        "SPRING",
    )
    visit = client.get(booked["Location"]).content.decode()
    assert "3,000" in visit and "600" in visit and "2,400" in visit and "Весенняя скидка" in visit


def test_a_wrong_or_expired_code_books_nothing_and_says_why(
    clock, as_user, clinic_a, doctor, service, patient
):
    promo(
        clinic_a,
        code="OLD",
        starts_on=TODAY - datetime.timedelta(9),
        ends_on=TODAY - datetime.timedelta(1),
    )
    client = as_user(patient.user)
    url = hold(client, doctor, service)
    unknown = client.post(url, {"patient": str(patient.public_id), "promo_code": "NOPE"})
    assert unknown.status_code == 200
    assert "not known" in unknown.content.decode()
    client.cookies["django_language"] = "ru"
    expired = client.post(url, {"patient": str(patient.public_id), "promo_code": "old"})
    assert "истёк" in expired.content.decode()
    assert not Appointment.objects.exists()
    assert Hold.objects.exists()  # the time is still kept


def test_a_first_visit_discount_applies_by_itself(
    clock, as_user, clinic_a, doctor, service, patient
):
    promo(clinic_a, name="Первый визит", segment=PatientSegment.FIRST_VISIT, value=D(20))
    client = as_user(patient.user)
    url = hold(client, doctor, service)
    assert "Первый визит" in client.get(url).content.decode()
    client.post(url, {"patient": str(patient.public_id)})
    assert Appointment.objects.get().discount == D(500)


def test_the_desk_books_with_a_promo_code_and_refuses_a_wrong_one(
    clock, as_user, registrar_a, clinic_a, doctor, service, other_patient
):
    promo(clinic_a, code="DESK", kind=DiscountKind.FIXED, value=D(100))
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    client = as_user(registrar_a)
    url = reverse("scheduling:desk_book") + f"?slot={slot.slot_id}"
    post = {"slot": slot.slot_id, "patient": str(other_patient.public_id), "channel": "phone"}
    wrong = client.post(url, post | {"promo_code": "NOPE"})
    assert wrong.status_code == 422 and "not known" in wrong.content.decode()
    assert not Appointment.objects.exists()
    booked = client.post(url, post | {"promo_code": "desk"})
    assert booked.status_code == 302
    assert Appointment.objects.get().price == D(2400)


def test_the_visit_documents_show_the_discount_line(clock, clinic_a, doctor, service, patient):
    promo(clinic_a, name="Весенняя скидка", code="SPRING", kind=DiscountKind.FIXED, value=D(600))
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
        promo_code="SPRING",
    )
    context = {
        "appointment": appointment,
        "patient": patient,
        "clinic": clinic_a,
        "payment": SimpleNamespace(amount=appointment.price, provider_payment_id="p-1"),
        "entity": clinic_a.legal_entity,
        "vat": None,
    }
    with translation.override("en"):
        summary = render_to_string("scheduling/pdf/summary.html", context)
        receipt = render_to_string("scheduling/pdf/receipt.html", context)
    assert "Discount" in summary and "₽600" in summary and "₽1,900" in summary
    assert "Price before the discount ₽2,500; discount ₽600 (Весенняя скидка)" in receipt


def test_the_network_admin_keeps_every_clinics_prices_and_promotions(
    clock, as_user, network_admin, clinic_b, service
):
    client = as_user(network_admin)
    theirs = promo(clinic_b, code="ARBAT")
    edit = reverse("scheduling:catalogue_promotion", args=[theirs.public_id])
    assert client.post(edit, promotion_post(code="ARBAT", value="700")).status_code == 302
    theirs.refresh_from_db()
    assert theirs.value == D(700)
    later = ServicePrice.objects.create(
        clinic=clinic_b, service=service, price=D(1), valid_from=TODAY + datetime.timedelta(30)
    )
    delete = reverse("scheduling:catalogue_price_delete", args=[later.public_id])
    assert client.post(delete).status_code == 302
    assert not ServicePrice.objects.exists()
