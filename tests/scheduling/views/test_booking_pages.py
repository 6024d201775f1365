"""The patient's booking pages: find care, the week picker, hold → sign in → confirm."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from scheduling.errors import HoldInvalid
from scheduling.models import Appointment, Hold, ServicePrice
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import DoctorFactory, PatientFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


def first_slot(service, doctor, day=TUE):
    return free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[0]


def hold_slot(client, slot):
    return client.post(reverse("scheduling:hold"), {"slot": slot.slot_id})


def test_a_free_time_button_posts_its_slot_with_the_csrf_token_and_a_spoken_label(
    clock, doctor, service
):
    client = Client(enforce_csrf_checks=True)
    url = reverse("scheduling:doctor", args=[doctor.public_id])
    with translation.override("ru"):
        body = client.get(url, {"service": str(service.public_id)}, HTTP_HX_REQUEST="true")
    html = body.content.decode()
    form = html[html.index('<form method="post" action="' + reverse("scheduling:hold")) :]
    form = form[: form.index("</form>")]
    slot_id = form.split('name="slot" value="', 1)[1].split('"', 1)[0]
    today = timezone.localdate()
    week = free_slots(
        service=service,
        doctor=doctor,
        start_date=today,
        end_date=today + datetime.timedelta(days=6),
    )
    assert slot_id == week[0].slot_id
    assert 'aria-label="Записаться: ' in form and ">09:00</button>" in form
    token = form.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    held = client.post(reverse("scheduling:hold"), {"slot": slot_id, "csrfmiddlewaretoken": token})
    assert held.status_code != 403  # the page's own token passes the CSRF check


# --- Browsing is public ----------------------------------------------------------------------


def test_anyone_finds_specialties_and_doctors_by_name(clock, client, doctor, service):
    page = client.get(reverse("scheduling:find_care"))
    assert page.status_code == 200
    assert service.specialty.name in page.content.decode()
    found = client.get(reverse("scheduling:find_care"), {"q": doctor.last_name.upper()})
    assert doctor.full_name in found.content.decode()
    nobody = client.get(reverse("scheduling:find_care"), {"q": "Zzzzz"})
    assert doctor.full_name not in nobody.content.decode()


def test_a_specialty_lists_its_doctors_with_their_next_free_times(clock, client, doctor, service):
    page = client.get(reverse("scheduling:specialty", args=[service.specialty.slug]))
    assert page.status_code == 200
    body = page.content.decode()
    assert doctor.full_name in body
    assert "09:00" in body  # the first free time on Monday in the clinic's zone
    assert client.get(reverse("scheduling:specialty", args=["no-such"])).status_code == 404


def test_the_doctor_page_shows_a_week_and_pages_with_htmx(clock, client, doctor, service):
    url = reverse("scheduling:doctor", args=[doctor.public_id])
    page = client.get(url, {"service": str(service.public_id)})
    assert page.status_code == 200
    assert page.content.decode().count('name="slot"') == 7 * 8  # 09:00-13:00, every 30 min
    later = client.get(url, {"from": "2027-03-08"}, HTTP_HX_REQUEST="true")
    assert later.status_code == 200
    assert "<html" not in later.content.decode()  # the partial only
    assert 'id="picker"' in later.content.decode()


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_doctor_is_404(client, bad):
    assert client.get(f"/doctors/{bad}/").status_code == 404


def test_the_earliest_times_say_each_clinics_time_and_offset(clock, client, doctor, service):
    page = client.get(reverse("scheduling:earliest"), {"service": str(service.public_id)})
    body = page.content.decode()
    assert page.status_code == 200
    assert "UTC+8" in body and "09:00" in body
    assert client.get(reverse("scheduling:earliest"), {"service": "junk"}).status_code == 200


# --- Hold, sign in, confirm ------------------------------------------------------------------


def test_a_visitor_picks_a_time_signs_in_and_books_it(clock, doctor, service, patient):
    visitor = Client()
    slot = first_slot(service, doctor)
    picked = hold_slot(visitor, slot)
    held = Hold.objects.get()
    confirm_url = reverse("scheduling:confirm", args=[held.public_id])
    assert picked.status_code == 302 and picked["Location"] == confirm_url
    to_login = visitor.get(confirm_url)
    assert to_login.status_code == 302 and "/accounts/login/" in to_login["Location"]
    visitor.force_login(patient.user)
    page = visitor.get(confirm_url)
    assert page.status_code == 200
    held.refresh_from_db()
    assert held.created_by == patient.user  # the hold is the patient's from now on
    booked = visitor.post(confirm_url, {"patient": str(patient.public_id)})
    appointment = Appointment.objects.get()
    assert booked["Location"] == reverse("scheduling:visit", args=[appointment.public_id])
    assert (appointment.patient, appointment.starts_at) == (patient, slot.start_utc)
    assert not Hold.objects.exists()
    # A second click on "Book" (or the back button) shows the same visit, books nothing new.
    again = visitor.post(confirm_url, {"patient": str(patient.public_id)})
    assert again["Location"] == reverse("scheduling:visit", args=[appointment.public_id])
    assert Appointment.objects.count() == 1


def test_a_patient_books_for_a_dependant_but_never_for_a_stranger(
    clock, as_user, doctor, service, patient, dependant, other_patient
):
    client = as_user(patient.user)
    hold_slot(client, first_slot(service, doctor))
    held = Hold.objects.get()
    url = reverse("scheduling:confirm", args=[held.public_id])
    client.post(url, {"patient": str(other_patient.public_id)})  # not theirs: falls back to self
    assert Appointment.objects.get().patient == patient
    hold_slot(client, first_slot(service, doctor, TUE + datetime.timedelta(days=1)))
    url = reverse("scheduling:confirm", args=[Hold.objects.get().public_id])
    client.post(url, {"patient": str(dependant.public_id)})
    assert Appointment.objects.filter(patient=dependant).count() == 1


def test_nobody_else_can_confirm_a_hold(clock, as_user, doctor, service, patient, other_patient):
    hold_slot(as_user(patient.user), first_slot(service, doctor))
    url = reverse("scheduling:confirm", args=[Hold.objects.get().public_id])
    stranger = as_user(other_patient.user)
    assert stranger.get(url)["Location"] == reverse("scheduling:find_care")
    stranger.post(url, {"patient": str(other_patient.public_id)})
    assert not Appointment.objects.exists()


def test_a_time_taken_meanwhile_sends_back_to_fresh_times_with_a_message(
    clock, as_user, doctor, service, patient, other_patient
):
    client = as_user(patient.user)
    slot = first_slot(service, doctor)
    hold_slot(client, slot)
    held = Hold.objects.get()
    clock.advance(minutes=11)  # the hold has expired; someone else books the time
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=other_patient.user,
    )
    answer = client.post(
        reverse("scheduling:confirm", args=[held.public_id]), {"patient": str(patient.public_id)}
    )
    assert answer.status_code == 302
    follow = client.get(answer["Location"])
    assert Appointment.objects.filter(patient=patient).count() == 0
    with translation.override("ru"):
        assert str(HoldInvalid.default_message) in follow.content.decode()


def test_a_taken_time_cannot_be_held(clock, client, doctor, service, other_patient):
    slot = first_slot(service, doctor)
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=other_patient.user,
    )
    answer = hold_slot(client, slot)
    assert answer.status_code == 302
    assert reverse("scheduling:doctor", args=[doctor.public_id]) in answer["Location"]
    assert not Hold.objects.exists()


def test_a_forged_slot_is_refused_without_an_error_page(client):
    answer = client.post(reverse("scheduling:hold"), {"slot": "forged"})
    assert answer.status_code == 302
    assert client.get(reverse("scheduling:hold")).status_code == 405


def test_staff_do_not_book_in_the_portal(clock, as_user, doctor, service, registrar_a):
    client = as_user(registrar_a)
    hold_slot(client, first_slot(service, doctor))
    held = Hold.objects.get()
    answer = client.get(reverse("scheduling:confirm", args=[held.public_id]))
    assert answer["Location"] == reverse("portal:home")


def test_a_new_login_without_a_profile_is_sent_to_onboarding_and_back(clock, doctor, service, db):
    from tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    hold_slot(client, first_slot(service, doctor))
    url = reverse("scheduling:confirm", args=[Hold.objects.get().public_id])
    answer = client.get(url)
    assert answer["Location"].startswith(reverse("portal:onboarding"))
    assert "next=" in answer["Location"]


def test_an_anonymous_visitor_keeps_one_held_time(clock, client, doctor, service):
    hold_slot(client, first_slot(service, doctor))
    hold_slot(client, first_slot(service, doctor, TUE + datetime.timedelta(days=1)))
    assert Hold.objects.count() == 1
    other = PatientFactory()  # noqa: F841 - another visitor's hold is not touched
    Client().post(reverse("scheduling:hold"), {"slot": first_slot(service, doctor, TUE).slot_id})
    assert Hold.objects.count() == 2


def test_the_confirmation_shows_the_clinics_time_and_zone(clock, as_user, doctor, service, patient):
    client = as_user(patient.user)
    hold_slot(client, first_slot(service, doctor))
    page = client.get(reverse("scheduling:confirm", args=[Hold.objects.get().public_id]))
    body = page.content.decode()
    assert "09:00" in body and "UTC+8" in body  # the patient reads another zone (no home clinic)
    assert local(doctor.clinics.get(), 2027, 3, 2, 9).isoformat()  # sanity of the fixture


def test_doctor_cards_start_from_the_clinic_prices_in_force_in_a_fixed_number_of_queries(
    clock, client, clinic_a, clinic_b, doctor, service, django_assert_num_queries
):
    """The network price (2 500) is undercut nowhere: the clinic asks 3 100 from last month,
    and a cheaper price only scheduled for next month does not count yet."""
    ServicePrice.objects.create(
        clinic=clinic_a, service=service, price="3100", valid_from=datetime.date(2027, 2, 1)
    )
    ServicePrice.objects.create(
        clinic=clinic_a, service=service, price="900", valid_from=datetime.date(2027, 4, 1)
    )
    url = reverse("scheduling:specialty", args=[service.specialty.slug])
    body = client.get(url, headers={"Accept-Language": "ru"}).content.decode()
    assert "от 3\xa0100\xa0₽" in body and "2\xa0500" not in body and "900\xa0₽" not in body
    found = client.get(
        reverse("scheduling:find_care"), {"q": doctor.last_name}, headers={"Accept-Language": "ru"}
    )
    assert "от 3\xa0100\xa0₽" in found.content.decode()
    # Read with one doctor, then with more doctors in more clinics: the same number of queries.
    with CaptureQueriesContext(connection) as one:
        client.get(url, headers={"Accept-Language": "ru"})
    for _ in range(2):
        DoctorFactory(services=[service], clinics=[clinic_a, clinic_b])
    ServicePrice.objects.create(
        clinic=clinic_b, service=service, price="2700", valid_from=datetime.date(2027, 1, 1)
    )
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url, headers={"Accept-Language": "ru"}).content.decode()
    assert "от 2\xa0700\xa0₽" in page  # the new doctors also work where it costs 2 700


def test_a_week_beyond_the_calendar_starts_today_instead(clock, client, doctor, service):
    url = reverse("scheduling:doctor", args=[doctor.public_id])
    page = client.get(url, {"service": str(service.public_id), "from": "9999-12-31"})
    assert page.status_code == 200
    assert page.content.decode().count('name="slot"') == 7 * 8


def test_a_card_with_times_quotes_the_price_of_the_service_those_times_book(
    clock, client, doctor, service
):
    """A cheaper repeat visit of the same specialty does not undercut the first visit whose
    times the card offers (and whose price the confirm page asks)."""
    from tests.factories import ServiceFactory

    repeat = ServiceFactory(
        specialty=service.specialty, name="Приём терапевта повторный", price="1000"
    )
    doctor.services.add(repeat)
    url = reverse("scheduling:specialty", args=[service.specialty.slug])
    body = client.get(url, headers={"Accept-Language": "ru"}).content.decode()
    assert "от 2\xa0500\xa0₽" in body and "1\xa0000" not in body
    found = client.get(
        reverse("scheduling:find_care"), {"q": doctor.last_name}, headers={"Accept-Language": "ru"}
    )
    assert "от 1\xa0000\xa0₽" in found.content.decode()  # no times there: the lowest of all
