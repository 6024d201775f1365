"""A patient books in the browser: three clicks from the home page, signing up on the way, the
same time taken meanwhile, a visit moved and cancelled."""

import datetime

import pytest
from allauth.account.models import EmailAddress

from scheduling.models import Appointment, Hold
from scheduling.services.booking import appointment_book
from scheduling.services.holds import hold_release
from tests.e2e.conftest import screenshot
from tests.factories import DEMO_PASSWORD, DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bookable(clinic_a):
    """A doctor of a specialty who works around the clock every day in clinic A."""
    service = ServiceFactory(name="Приём терапевта первичный", specialty__name="Терапевт")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(0), end=datetime.time(23, 30))
    return doctor, service


@pytest.fixture
def signed_up(patient):
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    return patient


def sign_in(page, patient):
    page.fill("input[name=login]", patient.user.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form [type=submit]").last.click()


def test_a_visitor_books_in_three_clicks_signing_in_on_the_way(page, bookable, signed_up):
    doctor, service = bookable
    clicks = 0
    page.goto("/")
    page.get_by_role("link", name="Терапевт").first.click()
    clicks += 1
    screenshot(page, "specialty-desktop")
    page.locator("button.slot").first.click()
    clicks += 1
    page.wait_for_url("**/accounts/login/**")
    sign_in(page, signed_up)
    page.wait_for_url("**/book/**")
    screenshot(page, "confirm-desktop")
    page.get_by_role("button", name="Записаться").click()
    clicks += 1
    page.wait_for_url("**/visits/**")
    appointment = Appointment.objects.get()
    assert clicks == 3
    assert appointment.patient == signed_up and appointment.doctor == doctor
    assert "Вы записаны" in page.content()
    screenshot(page, "visit-desktop")


def test_a_signed_in_patient_books_a_dependant_from_home_on_a_phone(
    mobile_page, bookable, signed_up, dependant
):
    page = mobile_page
    page.goto("/accounts/login/")
    sign_in(page, signed_up)
    page.wait_for_url("**/home/")
    page.get_by_role("link", name="Терапевт").first.click()
    page.locator("button.slot").first.click()
    page.wait_for_url("**/book/**")
    page.get_by_label(dependant.first_name, exact=False).check()
    # Scrolled just into view (as the keyboard does), the button stays clear of the assistant.
    book = page.get_by_role("button", name="Записаться")
    book.evaluate("button => button.scrollIntoView({block: 'end'})")
    button, launcher = book.bounding_box(), page.locator(".assistant-widget").bounding_box()
    assert button["y"] + button["height"] <= launcher["y"]
    screenshot(page, "confirm-mobile")
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url("**/visits/**")
    assert Appointment.objects.get().patient == dependant


def test_a_time_taken_between_pick_and_confirm_gives_a_message_and_fresh_times(
    page, bookable, signed_up, other_patient
):
    doctor, service = bookable
    page.goto("/accounts/login/")
    sign_in(page, signed_up)
    page.wait_for_url("**/home/")
    page.get_by_role("link", name="Терапевт").first.click()
    page.locator("button.slot").first.click()
    page.wait_for_url("**/book/**")
    held = Hold.objects.get()
    hold_release(hold=held, actor=signed_up.user)  # it ran out and was purged meanwhile
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=held.starts_at,
        channel="online",
        actor=other_patient.user,
    )
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_load_state()
    assert page.locator(".flash-error").is_visible()
    assert page.locator("button.slot").count() > 0  # fresh times to pick from
    assert not Appointment.objects.filter(patient=signed_up).exists()
    screenshot(page, "taken-meanwhile")


def test_a_patient_moves_then_cancels_a_visit(page, bookable, signed_up):
    doctor, service = bookable
    page.goto("/accounts/login/")
    sign_in(page, signed_up)
    page.wait_for_url("**/home/")
    page.get_by_role("link", name="Терапевт").first.click()
    page.get_by_role("link", name="Всё время").first.click()
    page.locator("button.slot").nth(12).click()  # hours ahead: still movable online
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url("**/visits/**")
    appointment = Appointment.objects.get()
    first_start = appointment.starts_at
    page.get_by_role("button", name="Перенести на другое время").click()
    page.locator("button.slot").nth(3).click()
    screenshot(page, "move-confirm")
    page.get_by_role("button", name="Перенести приём").click()
    page.wait_for_url(f"**/visits/{appointment.public_id}/")
    appointment.refresh_from_db()
    assert appointment.starts_at != first_start
    page.locator("summary", has_text="Отменить приём").click()
    page.fill("textarea[name=reason]", "Планы изменились")
    page.locator("form button.danger").click()
    page.wait_for_load_state()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    screenshot(page, "cancelled")


def test_a_new_visitor_picks_a_time_signs_up_and_comes_back_to_confirm_it(page, bookable):
    """Sign-up on the way: the e-mail link from the outbox, the profile, then the held time."""
    import re

    from tests.mail import sent_mails

    doctor, service = bookable
    page.goto("/")
    page.get_by_role("link", name="Терапевт").first.click()
    page.locator("button.slot").first.click()
    page.wait_for_url("**/accounts/login/**")
    held = Hold.objects.get()
    page.goto(page.url.replace("/accounts/login/", "/accounts/signup/"))
    page.fill("input[name=email]", "new.patient@example.test")
    page.fill("input[name=password1]", "Another#Strong-pass-42")
    page.fill("input[name=password2]", "Another#Strong-pass-42")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()
    body = sent_mails("new.patient@example.test")[0].body
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", body).group(1)
    page.goto(link)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_url("**/me/welcome/**")
    page.fill("input[name=last_name]", "Петрова")
    page.fill("input[name=first_name]", "Ольга")
    page.fill("input[name=birth_date]", "1990-05-17")
    page.fill("input[name=phone]", "8 914 555-77-66")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_url("**/book/**")
    assert Hold.objects.get().pk == held.pk  # the time picked before signing up is still held
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url("**/visits/**")
    appointment = Appointment.objects.get()
    assert appointment.patient.user.email == "new.patient@example.test"
    assert (appointment.doctor, appointment.starts_at) == (doctor, held.starts_at)
