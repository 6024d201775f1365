"""Leave decisions and the desk's queues in a browser: the head nurse approves a day off, the
registrar finds its visits in the queues (linked from the board), both at 390 and 1280 px."""

import datetime

import pytest
from django.utils import timezone

from portal.choices import Role
from scheduling.choices import LeaveKind
from scheduling.models import LeaveRequest
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [(1280, 900), (390, 844)]


@pytest.fixture
def day_off(db):
    clinic = ClinicFactory(name="Медфронт Центр", timezone="Europe/Moscow")
    service = ServiceFactory(name="Приём терапевта", duration_minutes=30)
    doctor = DoctorFactory(
        services=[service], clinics=[clinic], last_name="Орлова", first_name="Анна"
    )
    other = DoctorFactory(services=[service], clinics=[clinic], last_name="Белов")
    for doc in (doctor, other):
        make_weekly_schedule(doc, clinic)
    day = timezone.now().astimezone(clinic.tz).date() + datetime.timedelta(days=3)
    nurse = make_staff(Role.HEAD_NURSE, clinic, first_name="Елена", last_name="Старшая")
    registrar = make_staff(Role.REGISTRAR, clinic)
    slots = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)
    for index, name in enumerate(["Соколова", "Петров", "Кузнецова"]):
        appointment_book(
            patient=PatientFactory(last_name=name, first_name="Мария"),
            doctor=doctor,
            service=service,
            start=slots[index * 2].start,
            channel="phone",
            actor=registrar,
        )
    LeaveRequest.objects.create(
        doctor=doctor, kind=LeaveKind.DAY_OFF, date_from=day, date_to=day, note="Семейные дела"
    )
    LeaveRequest.objects.create(
        doctor=other,
        kind=LeaveKind.SUBSTITUTION,
        date_from=day + datetime.timedelta(days=1),
        date_to=day + datetime.timedelta(days=2),
        clinic=clinic,
    )
    return nurse, registrar


def sign_in(page, live_server, user):
    session = client_for(user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_a_day_off_approved_lands_in_the_desk_queue(browser, live_server, day_off):
    nurse, registrar = day_off
    for width, height in VIEWPORTS:
        context = browser.new_context(
            base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": height}
        )
        page = context.new_page()
        sign_in(page, live_server, nurse)
        page.goto("/leave/")
        assert "3 записи" in page.inner_text("main")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        screenshot(page, f"leave-requests-{width}")
        context.close()

    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    page = context.new_page()
    sign_in(page, live_server, nurse)
    page.goto("/leave/")
    page.locator("article.leave-card").first.get_by_role("button", name="Одобрить").click()
    page.wait_for_load_state()
    assert "3 приёма переданы в регистратуру" in page.inner_text("main")
    context.close()

    for width, height in VIEWPORTS:
        context = browser.new_context(
            base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": height}
        )
        page = context.new_page()
        sign_in(page, live_server, registrar)
        page.goto("/desk/")
        page.get_by_role("link", name="Очереди").click()
        page.wait_for_url("**/desk/queues/")
        text = page.inner_text("main")
        assert "Соколова Мария" in text and "Врач отсутствует" in text
        screenshot(page, f"desk-queues-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        context.close()
