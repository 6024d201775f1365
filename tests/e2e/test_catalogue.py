"""The clinic admin's catalogue in a browser at a phone's and a desk's width: a price scheduled
for later, a promo code created, and a patient booking with it at the lower price. Screenshots
go to the e2e scratch directory (`catalogue/`); nothing reaches past the window's edge."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from scheduling.choices import DiscountKind
from scheduling.models import Appointment, Promotion, ServicePrice
from tests.conftest import client_for
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_screenshots import overflow
from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WIDTHS = {"phone": 390, "desktop": 1280}


def shoot(page, name: str) -> list[str]:
    page.wait_for_load_state("networkidle")
    folder = SCREENSHOTS / "catalogue"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    return overflow(page)


@pytest.mark.parametrize("device", WIDTHS)
def test_a_clinic_admin_sets_prices_and_a_code_and_a_patient_books_with_it(
    browser, live_server, clinic_a, clinic_admin_a, patient, device
):
    service = ServiceFactory(name="Приём терапевта первичный", specialty__name="Терапевт")
    ServiceFactory(name="Приём терапевта повторный", specialty=service.specialty, price=2000)
    ServiceFactory(
        name="УЗИ брюшной полости",
        specialty__name="Ультразвуковая диагностика",
        preparation="Натощак, за 3 часа не есть и не пить.",
        is_active=False,
    )
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(8), end=datetime.time(20))
    today = timezone.now().astimezone(clinic_a.tz).date()
    ServicePrice.objects.create(
        clinic=clinic_a,
        service=service,
        price=Decimal(2700),
        valid_from=today - datetime.timedelta(days=30),
    )
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": WIDTHS[device], "height": 800}
    )
    page = context.new_page()
    problems = {}
    session = client_for(clinic_admin_a).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])

    page.goto("/home/")
    page.get_by_role("link", name="Цены и акции").first.click()
    page.wait_for_url("**/manage/catalogue/**")
    problems["catalogue"] = shoot(page, f"catalogue-{device}")
    page.get_by_role("row", name="Приём терапевта первичный").get_by_role(
        "link", name="Цены"
    ).click()
    later = today + datetime.timedelta(days=14)
    page.get_by_label("Новая цена, ₽").fill("2900")
    page.get_by_label("Действует с").fill(later.isoformat())
    page.get_by_role("button", name="Сохранить цену").click()
    page.wait_for_load_state()
    assert "Новая цена действует с" in page.locator("body").inner_text()
    problems["prices"] = shoot(page, f"prices-{device}")
    assert ServicePrice.objects.filter(valid_from=later, price=2900).exists()

    page.get_by_role("link", name="Акции", exact=True).click()
    page.get_by_role("button", name="Новая акция").click()
    page.locator("#id_name").fill("Весенняя скидка")
    page.locator("#id_kind").select_option(DiscountKind.FIXED)
    page.locator("#id_value").fill("500")
    page.locator("#id_starts_on").fill(today.isoformat())
    page.locator("#id_ends_on").fill((today + datetime.timedelta(days=30)).isoformat())
    page.locator("#id_code").fill("spring")
    problems["promotion"] = shoot(page, f"promotion-form-{device}")
    page.get_by_role("button", name="Сохранить акцию").click()
    page.wait_for_load_state()
    assert "SPRING" in page.locator("body").inner_text()
    problems["promotions"] = shoot(page, f"promotions-{device}")
    assert Promotion.objects.get().code == "SPRING"
    context.clear_cookies()

    session = client_for(patient.user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto(f"/doctors/{doctor.public_id}/?service={service.public_id}")
    page.locator("button.slot").first.click()
    page.wait_for_url("**/book/**")
    page.get_by_label("Промокод, если есть").fill("spring")
    page.get_by_role("button", name="Применить").click()
    page.wait_for_load_state()
    text = page.locator("body").inner_text()
    assert "Весенняя скидка" in text and "2 200" in text.replace("\xa0", " ")
    problems["confirm"] = shoot(page, f"confirm-discount-{device}")
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url("**/visits/**")
    problems["visit"] = shoot(page, f"visit-discount-{device}")
    appointment = Appointment.objects.get()
    assert (appointment.price, appointment.discount) == (Decimal(2200), Decimal(500))
    context.close()
    assert not {name: found for name, found in problems.items() if found}
