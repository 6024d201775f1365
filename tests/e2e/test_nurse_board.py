"""The head nurse's board in a browser at 1280 px and 390 px: the quota calendar with a day's
limit changed in its cell (htmx), the load of rooms and equipment, and a room closed from the
form, whose booked visit goes to the desk."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Quota, QuotaCounter, RebookTask
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    PatientFactory,
    RoomFactory,
    ServiceFactory,
    make_weekly_schedule,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TUE = datetime.date(2027, 3, 2)
# Monday 1 March 2027, 08:00 in Irkutsk.
NOW = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clinic_week(monkeypatch, clinic_a, registrar_a):
    """Two doctors, an ultrasound room with a probe and a consultation room; quotas; visits."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    scan = ServiceFactory(name="УЗИ брюшной полости", room_kind="ultrasound", duration_minutes=30)
    probe = EquipmentTypeFactory(name="Датчик конвексный")
    scan.equipment_types.add(probe)
    RoomFactory(clinic=clinic_a, kind="ultrasound", name="Кабинет УЗИ")
    RoomFactory(clinic=clinic_a, kind="consultation", name="Кабинет 1")
    EquipmentFactory(clinic=clinic_a, type=probe, name="Аппарат УЗИ Mindray")
    sonographer = DoctorFactory(
        last_name="Смирнова", first_name="Ольга", services=[scan], clinics=[clinic_a]
    )
    make_weekly_schedule(sonographer, clinic_a)
    therapist = DoctorFactory(last_name="Петров", first_name="Игорь", clinics=[clinic_a])
    make_weekly_schedule(therapist, clinic_a, start=datetime.time(12), end=datetime.time(18))
    online = Quota.objects.create(clinic=clinic_a, doctor=sonographer, channel="online", limit=6)
    phone = Quota.objects.create(clinic=clinic_a, channel="phone", limit=20)
    for slot in free_slots(
        service=scan, doctor=sonographer, channel="phone", start_date=TUE, end_date=TUE
    )[:5]:
        appointment_book(
            patient=PatientFactory(),
            doctor=sonographer,
            service=scan,
            start=slot.start,
            channel="phone",
            actor=registrar_a,
        )
    QuotaCounter.objects.create(quota=online, date=TUE + datetime.timedelta(days=1), used=6)
    QuotaCounter.objects.create(
        quota=online, date=TUE + datetime.timedelta(days=4), used=1, day_limit=3
    )
    return online, phone


def open_board(browser, live_server, user, width):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": 900}
    )
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context, context.new_page()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_head_nurse_board(browser, live_server, head_nurse_a, clinic_week, width):
    online, _phone = clinic_week
    context, page = open_board(browser, live_server, head_nurse_a, width)
    page.goto(reverse("portal:home"))
    page.locator(f'a[href="{reverse("scheduling:nurse")}"]').first.click()
    page.wait_for_url("**/nurse/**")
    page.goto(f"{reverse('scheduling:nurse')}?date=2027-03-02")
    assert page.locator("h1").inner_text() == "Квоты"
    screenshot(page, f"nurse-quotas-{width}")

    # The sonographer's Tuesday: 5 booked by phone, none online; set the day's limit to 2.
    cell = page.locator(f'form[hx-post$="/quotas/{online.pk}/day/"]').nth(1)
    cell.locator('input[name="limit"]').fill("2")
    cell.locator('input[name="limit"]').press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('input.qc-own[value=\"2\"]').length === 1"
    )
    assert QuotaCounter.objects.get(quota=online, date=TUE).day_limit == 2

    page.get_by_role("link", name="Загрузка кабинетов и оборудования").click()
    page.goto(f"{reverse('scheduling:nurse_load')}?date=2027-03-02")
    assert page.locator("td.nb-load-cell").count() == 3 * 8
    screenshot(page, f"nurse-load-{width}")

    page.get_by_role("link", name="Закрытия").click()
    page.select_option('select[name="resource"]', label="Кабинет УЗИ")
    page.fill('input[name="starts_at"]', "2027-03-02T09:00")
    page.fill('input[name="ends_at"]', "2027-03-02T11:00")
    page.fill('input[name="reason"]', "Замена кушетки")
    screenshot(page, f"nurse-closures-{width}")
    page.get_by_role("button", name="Закрыть").click()
    page.wait_for_url("**/nurse/closures/*/")
    assert page.locator("tbody tr").count() == 4
    assert RebookTask.objects.count() == 4
    screenshot(page, f"nurse-closure-{width}")
    context.close()
