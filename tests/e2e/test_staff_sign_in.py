"""A network admin opens the admin in a browser: the admin sends them to the site's sign-in,
which asks for the password and then the authenticator code, and returns to the admin."""

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from tests.e2e.conftest import screenshot
from tests.factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_the_admin_signs_in_through_the_site_with_the_second_factor(page, network_admin):
    EmailAddress.objects.create(
        user=network_admin, email=network_admin.email, verified=True, primary=True
    )
    TOTP.activate(network_admin, SECRET)
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=%2Fadmin%2F")
    page.fill("input[name=login]", network_admin.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", format_hotp_value(hotp_value(SECRET, int(time.time()) // 30)))
    page.press("input[name=code]", "Enter")
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").is_visible()
    screenshot(page, "admin-after-mfa")
