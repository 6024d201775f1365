"""The clinic's schedule pages in a browser: a clinic admin opens a rule from the grid (htmx
puts its form beside the grid), changes it, and records an absence over a booked visit after
the page has listed it; screenshots at 1280 and 390 px."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import RebookTask, ScheduleRule
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import (
    DoctorFactory,
    RoomFactory,
    ServiceFactory,
    make_weekly_schedule,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TUE = datetime.date(2027, 3, 2)
# Monday 1 March 2027, 08:00 in Irkutsk.
NOW = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def network(monkeypatch, clinic_a, patient):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    service = ServiceFactory(name="Приём терапевта первичный", duration_minutes=30)
    RoomFactory(clinic=clinic_a, name="Кабинет 12")
    doctors = [DoctorFactory(services=[service], clinics=[clinic_a]) for _ in range(4)]
    make_weekly_schedule(doctors[0], clinic_a)
    for weekday in range(5):
        ScheduleRule.objects.create(
            doctor=doctors[1],
            clinic=clinic_a,
            weekday=weekday,
            start_time=datetime.time(14),
            end_time=datetime.time(20),
            breaks=[["17:00", "17:30"]],
            slot_step_minutes=20,
            valid_from=datetime.date(2027, 1, 1),
        )
    ScheduleRule.objects.create(
        doctor=doctors[2],
        clinic=clinic_a,
        weekday=5,
        start_time=datetime.time(10),
        end_time=datetime.time(15),
        valid_from=datetime.date(2027, 4, 1),
        valid_until=datetime.date(2027, 6, 30),
    )
    slot = free_slots(service=service, doctor=doctors[0], start_date=TUE, end_date=TUE)[2]
    appointment_book(
        patient=patient,
        doctor=doctors[0],
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )
    return doctors


def open_as(browser, live_server, user, width):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": 900}
    )
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context, context.new_page()


def test_a_clinic_admin_edits_hours_and_records_an_absence(
    browser, live_server, network, clinic_admin_a, clinic_a, patient
):
    context, page = open_as(browser, live_server, clinic_admin_a, 1280)
    page.goto(reverse("portal:home"))
    page.get_by_role("link", name="Расписания").first.click()
    page.wait_for_url("**/schedule/**")
    where = page.locator(".sa-where").inner_text()
    assert "Иркутск (UTC+8)" in where and "Asia/Irkutsk" not in where
    screenshot(page, "schedule-grid-1280")
    first = network[0]
    page.locator("a.sa-rule", has_text="09:00–13:00").first.click()
    editor = page.locator("#rule-editor")
    editor.get_by_label("Конец").wait_for()
    assert first.full_name in editor.inner_text()
    screenshot(page, "schedule-rule-1280")
    editor.get_by_label("Конец").fill("14:00")
    editor.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector(".flash")
    assert ScheduleRule.objects.filter(doctor=first, end_time=datetime.time(14)).count() == 1

    page.get_by_role("link", name="Отсутствия и дополнительные часы").click()
    page.get_by_label("Врач").select_option(str(first.public_id))
    page.get_by_label("Первый день").fill(TUE.isoformat())
    page.get_by_label("Последний день").fill(TUE.isoformat())
    page.get_by_label("Первый день").dispatch_event("change")
    page.locator("#absence-preview .sa-hits").wait_for()
    page.get_by_role("button", name="Сохранить").click()
    page.locator("button", has_text="передать 1 приём").wait_for()
    assert patient.full_name in page.locator(".sa-hits").inner_text()
    screenshot(page, "schedule-absence-1280")
    page.locator("button", has_text="передать 1 приём").click()
    page.wait_for_selector(".flash")
    assert RebookTask.objects.count() == 1
    page.get_by_role("link", name="Правила записи").click()
    screenshot(page, "schedule-policy-1280")
    context.close()


def test_the_grid_on_a_phone(browser, live_server, network, head_nurse_a, clinic_a):
    context, page = open_as(browser, live_server, head_nurse_a, 390)
    page.goto(reverse("scheduling:schedule_grid", args=[clinic_a.public_id]))
    assert page.locator("a.sa-rule").count() == 7 + 5 + 1
    # The table scrolls inside its frame; the page itself does not widen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "schedule-grid-390")
    page.goto(reverse("scheduling:schedule_policy", args=[clinic_a.public_id]))
    assert page.locator("input[name=horizon_days]").is_disabled()
    screenshot(page, "schedule-policy-390")
    context.close()
