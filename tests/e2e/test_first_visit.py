import pytest
from allauth.account.models import EmailAddress

from tests.e2e.conftest import screenshot
from tests.factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_sees_the_network_clinics_on_the_landing_page(page, clinic_a, clinic_b):
    page.goto("/")
    assert page.get_by_text("Медфронт Центр").first.is_visible()
    assert page.get_by_text("Медфронт Арбат").first.is_visible()
    screenshot(page, "landing")


def test_a_patient_signs_in_with_email_and_password_and_lands_home(mobile_page, patient):
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    page = mobile_page
    page.goto("/accounts/login/")
    page.fill("input[name=login]", patient.user.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator('form[action="/accounts/login/"] [type=submit]').click()
    page.wait_for_url("**/home/")
    assert "Иванова" in page.content()
    screenshot(page, "patient-home-mobile")
