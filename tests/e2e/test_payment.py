"""A patient books a prepaid service, pays with the built-in test provider (its page, its
signed webhook, back on the visit) and downloads the receipt PDF; on a phone and a desktop."""

import datetime
import re
import subprocess

import pytest
from allauth.account.models import EmailAddress

from scheduling.choices import PaymentStatus
from scheduling.models import Appointment, BookingPolicy, Payment
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import violations
from tests.factories import DEMO_PASSWORD, DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prepaid(clinic_a):
    """A cardiologist working around the clock in clinic A, whose visit is paid in advance."""
    service = ServiceFactory(
        name="Приём кардиолога первичный", specialty__name="Кардиолог", price="3200.00"
    )
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(0), end=datetime.time(23, 30))
    BookingPolicy.objects.create(clinic=clinic_a).prepaid_services.add(service)
    return service


@pytest.fixture
def signed_up(patient):
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    return patient


@pytest.mark.parametrize("width", [390, 1280])
def test_a_patient_pays_for_a_prepaid_visit_and_downloads_the_receipt(
    browser, live_server, width, prepaid, signed_up, tmp_path
):
    # axe-core is injected into the pages: this browser ignores the site's CSP.
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": width, "height": 900},
        bypass_csp=True,
        accept_downloads=True,
    )
    page = context.new_page()
    problems = {}
    page.goto("/accounts/login/")
    page.fill("input[name=login]", signed_up.user.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_url("**/home/")
    page.get_by_role("link", name="Кардиолог").first.click()
    page.locator("button.slot").first.click()
    page.wait_for_url("**/book/**")
    assert "предоплат" in page.content()
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url("**/visits/**")
    appointment = Appointment.objects.get()
    assert appointment.payment_due_at is not None
    assert page.get_by_text("Ожидает оплаты").first.is_visible()
    screenshot(page, f"visit-awaiting-payment-{width}")
    problems["awaiting"] = violations(page)
    page.get_by_role("link", name="Мои приёмы").first.click()
    page.wait_for_url("**/visits/")
    assert page.locator(".pay-inline button").is_visible()
    screenshot(page, f"visits-awaiting-payment-{width}")
    problems["my visits"] = violations(page)
    page.locator(".visit-card h3 a").first.click()
    page.wait_for_url(f"**/visits/{appointment.public_id}/")

    page.get_by_role("button", name=re.compile(r"^Оплатить")).click()
    page.wait_for_url("**/payments/test-gateway/**")
    assert "3 200 ₽" in page.locator("main").inner_text().replace("\xa0", " ")
    screenshot(page, f"pay-page-{width}")
    problems["pay page"] = violations(page)
    page.get_by_role("button", name="Оплатить").click()
    page.wait_for_url(f"**/visits/{appointment.public_id}/")
    assert page.locator(".flash-success").is_visible()
    assert page.locator(".pay-panel.is-paid").is_visible()
    screenshot(page, f"visit-paid-{width}")
    problems["paid"] = violations(page)
    appointment.refresh_from_db()
    payment = Payment.objects.get()
    assert appointment.status == "confirmed" and payment.status == PaymentStatus.SUCCEEDED

    with page.expect_download() as download:
        page.locator("a", has_text="Квитанция об оплате").click()
    pdf = tmp_path / "receipt.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(  # noqa: S603
        ["/usr/bin/pdftotext", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    normalised = text.replace("\xa0", " ").replace("\u202f", " ")
    assert "Квитанция об оплате" in text and "3 200 ₽" in normalised
    assert payment.provider_payment_id in text
    context.close()
    assert {name: found for name, found in problems.items() if found} == {}
