"""The registrar desk in a browser: keyboard only from the board to a booked visit, another
desk's booking appearing after a poll, and screenshots of a busy day at 390, 1280 and 1920 px."""

import datetime
import random
import zoneinfo

import pytest
from django.utils import timezone

from portal.choices import Role
from scheduling.models import Appointment
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
)
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SpecialtyFactory,
    make_staff,
    make_weekly_schedule,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Zones one hour apart: the clinic is put where it is early morning now, so the whole working
# day (08:00–20:00) lies ahead whenever the test runs, and today's visits can be checked in.
ZONES = [
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
    "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Cape_Verde", "UTC",
    "Africa/Lagos", "Africa/Cairo", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Irkutsk", "Asia/Tokyo", "Australia/Brisbane",
    "Pacific/Noumea", "Pacific/Fiji", "Pacific/Tongatapu", "Pacific/Kiritimati",
]  # fmt: skip


def early_morning_zone() -> str:
    now = timezone.now()
    for zone in ZONES:
        local = now.astimezone(zoneinfo.ZoneInfo(zone))
        if 4 <= local.hour < 7:
            return zone
    raise AssertionError("no zone where it is early morning now")  # one hour apart: unreachable


@pytest.fixture
def desk_clinic(db):
    return ClinicFactory(name="Медфронт Утро", timezone=early_morning_zone())


@pytest.fixture
def registrar(desk_clinic):
    return make_staff(
        Role.REGISTRAR, desk_clinic, email="desk@example.test", display_name="Анна Регистратор"
    )


@pytest.fixture
def busy_day(desk_clinic, registrar):
    """Ten doctors of three specialties, 08:00–20:00 with a lunch break, about half booked in
    every state a visit can have before it starts."""
    rng = random.Random(13)
    specialties = [SpecialtyFactory(name=n) for n in ("Терапевт", "Кардиолог", "Невролог")]
    services = [
        ServiceFactory(name=f"{s.name}: приём", specialty=s, duration_minutes=30)
        for s in specialties
    ]
    doctors = []
    for index in range(10):
        service = services[index % 3]
        doctor = DoctorFactory(services=[service], clinics=[desk_clinic])
        make_weekly_schedule(
            doctor,
            desk_clinic,
            start=datetime.time(8),
            end=datetime.time(20),
            breaks=[["13:00", "14:00"]],
        )
        doctors.append((doctor, service))
    today = timezone.now().astimezone(desk_clinic.tz).date()
    for doctor, service in doctors:
        slots = free_slots(
            service=service, doctor=doctor, channel="phone", start_date=today, end_date=today
        )
        for slot in rng.sample(slots, len(slots) // 2):
            visit = appointment_book(
                patient=PatientFactory(),
                doctor=doctor,
                service=service,
                start=slot.start,
                channel=rng.choice(["phone", "online", "walk_in"]),
                actor=registrar,
            )
            roll = rng.random()
            if roll < 0.3:
                appointment_confirm(appointment=visit, actor=registrar)
            elif roll < 0.4:
                appointment_check_in(appointment=visit, actor=registrar)
            elif roll < 0.5:
                appointment_check_in(appointment=visit, actor=registrar)
                appointment_complete(appointment=visit, actor=registrar)
            elif roll < 0.55:
                appointment_cancel(appointment=visit, actor=registrar, reason="Болеет")
    return doctors


@pytest.fixture
def caller(db):
    return PatientFactory(last_name="Соколова", first_name="Мария", phone="+79145550123")


def sign_in_page(browser, live_server, user, viewport=(1280, 900)):
    """A browser page signed in as `user` (a session made as `client_for` makes it)."""
    client = client_for(user)
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def test_a_registrar_books_a_caller_keyboard_only_and_sees_the_visit(
    browser, live_server, desk_clinic, registrar, busy_day, caller
):
    page = sign_in_page(browser, live_server, registrar)
    page.goto("/desk/")
    keys = 0
    page.keyboard.press("f")  # the first free time on the board
    keys += 1
    focused = page.evaluate("document.activeElement.className")
    assert "dk-free" in focused
    page.keyboard.press("Enter")
    keys += 1
    page.wait_for_url("**/desk/book/**")
    assert page.evaluate("document.activeElement.id") == "book-q"
    page.keyboard.type("0123 Соколова")
    keys += 1  # one field, typed
    page.keyboard.press("Enter")
    keys += 1
    page.wait_for_selector("#patient-choices input[name=patient]:checked")
    for _ in range(4):
        if page.evaluate("document.activeElement.id") == "book-submit":
            break
        page.keyboard.press("Tab")
        keys += 1
    assert page.evaluate("document.activeElement.id") == "book-submit"
    page.keyboard.press("Enter")
    keys += 1
    page.wait_for_url("**/desk/?**")
    appointment = Appointment.objects.get(patient=caller)
    assert appointment.channel == "phone" and appointment.booked_by == registrar
    chip = page.locator(f"#appt-{appointment.public_id}")
    assert chip.is_visible()
    assert "Соколова" in chip.inner_text()
    assert keys <= 8
    screenshot(page, "desk-booked-1280")


def test_another_desks_booking_appears_on_the_board_after_a_poll(
    browser, live_server, desk_clinic, registrar, busy_day, caller
):
    board = sign_in_page(browser, live_server, registrar)
    board.goto("/desk/")
    before = board.locator(".dk-appt").count()
    colleague = make_staff(Role.REGISTRAR, desk_clinic, email="desk2@example.test")
    other = sign_in_page(browser, live_server, colleague)
    other.goto(f"/desk/?patient={caller.public_id}")
    other.locator("#board a.dk-free").first.click()
    other.wait_for_url("**/desk/book/**")
    other.locator("#book-submit").click()
    other.wait_for_url("**/desk/?**")
    appointment = Appointment.objects.get(patient=caller)
    # No reload: the first board's poll brings it.
    board.wait_for_selector(f"#appt-{appointment.public_id}", timeout=20_000)
    assert board.locator(".dk-appt").count() == before + 1


@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_screenshots_of_a_busy_day(browser, live_server, desk_clinic, registrar, busy_day, width):
    page = sign_in_page(browser, live_server, registrar, viewport=(width, 1000))
    page.goto("/desk/")
    assert page.locator(".dk-appt").count() > 40
    screenshot(page, f"desk-board-{width}")
    page.locator(".dk-appt.st-booked").first.click()
    page.wait_for_url("**/desk/appointments/**")
    screenshot(page, f"desk-appointment-{width}")
    page.goto("/desk/")
    page.locator("#board a.dk-free").first.click()
    page.wait_for_url("**/desk/book/**")
    screenshot(page, f"desk-book-{width}")


def test_desk_pages_have_no_accessibility_violations(
    browser, live_server, desk_clinic, registrar, busy_day, caller
):
    from tests.e2e.test_accessibility import violations

    client = client_for(registrar)
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    visit = Appointment.objects.filter(clinic=desk_clinic, status="booked").first()
    found = {}
    page.goto(f"/desk/?patient={caller.public_id}")
    found["board"] = violations(page)
    page.locator("#board a.dk-free").first.click()
    page.wait_for_url("**/desk/book/**")
    found["book"] = violations(page)
    for path in (
        f"/desk/appointments/{visit.public_id}/",
        f"/desk/appointments/{visit.public_id}/reschedule/",
        f"/staff/patients/{visit.patient.public_id}/",
    ):
        page.goto(path)
        found[path] = violations(page)
        screenshot(page, "desk-" + path.strip("/").split("/")[-1][:12] + "-1280")
    assert {name: v for name, v in found.items() if v} == {}
