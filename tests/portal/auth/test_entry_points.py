"""One policy for every way in: the password form, sign-in codes, the second-factor step, the
admin and the API token endpoint share one lockout per account + address, and every staff
session must have passed MFA itself before it reaches staff pages, the admin or the API."""

import datetime
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import OutboxMessage
from portal.choices import Role
from tests.factories import DEMO_PASSWORD, PatientWithLoginFactory, UserFactory, make_staff
from tests.portal.auth.conftest import sign_in, signed_in_user_id, staff_client, verify_email

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_limit_three")]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
WRONG = "definitely-not-it"
LOCKED = "Too many failed sign-in attempts"
TOKEN_URL = "/api/v1/auth/token/"
MFA_STEP = "/accounts/2fa/authenticate/"
MFA_CONFIRM = "/accounts/2fa/reauthenticate/"


@pytest.fixture
def _limit_three():
    # The code limits are tested on their own (test_code_limits): here they stay out of the way.
    with override_settings(
        LOGIN_FAILURE_LIMIT=3,
        LOGIN_COOLOFF=datetime.timedelta(minutes=15),
        CODE_RESEND_INTERVAL=datetime.timedelta(0),
        CODE_SEND_LIMIT=50,
        CODE_GUESS_LIMIT=50,
    ):
        yield


def code_now() -> str:
    return format_hotp_value(hotp_value(SECRET, int(time.time()) // 30))


def wrong_code() -> str:
    return "000000" if code_now() != "000000" else "111111"


@pytest.fixture
def phone_patient(db):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    verify_email(patient.user)
    return patient


@pytest.fixture
def mfa_staff(clinic_a):
    staff = make_staff(Role.REGISTRAR, clinic_a, email="desk@example.test")
    verify_email(staff)
    TOTP.activate(staff, SECRET)
    return staff


def api_sign_in(email, password=DEMO_PASSWORD, otp="", ip="127.0.0.1"):
    body = {"email": email, "password": password, "otp": otp}
    return APIClient().post(TOKEN_URL, body, format="json", REMOTE_ADDR=ip)


def post(client, path, data):
    # English pages, so assertions on messages hold whatever the default language is.
    return client.post(path, data, HTTP_ACCEPT_LANGUAGE="en")


def wrong_sign_in_code(client, phone):
    post(client, "/accounts/login/code/", {"phone": phone})
    return post(client, "/accounts/login/code/confirm/", {"code": "000000"})


# --- One lockout, whatever the way in ------------------------------------------------------


def test_failures_at_the_form_the_api_and_the_code_step_add_up(phone_patient):
    email = phone_patient.user.email
    assert sign_in(Client(), email, WRONG).status_code == 200
    assert api_sign_in(email, WRONG).status_code == 401
    wrong_sign_in_code(Client(), "8 914 555-12-34")
    # Three failures of one account from one address, by three ways in: every way is shut.
    assert LOCKED in sign_in(Client(), email).content.decode()
    locked = api_sign_in(email)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    requested = post(Client(), "/accounts/login/code/", {"phone": "+79145551234"})
    assert LOCKED in requested.content.decode()
    assert not OutboxMessage.objects.filter(event="auth.login_code").count() > 1


def test_the_e_mail_and_the_phone_of_one_account_share_its_count(client, phone_patient):
    sign_in(client, phone_patient.user.email.upper(), WRONG)
    sign_in(client, "+7 914 555 12 34", WRONG)
    sign_in(client, f"  {phone_patient.user.email}  ", WRONG)
    response = sign_in(client, "89145551234")
    assert LOCKED in response.content.decode()
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    "spelling",
    ["LOGIN@EXAMPLE.TEST", "ｌｏｇｉｎ＠ｅｘａｍｐｌｅ．ｔｅｓｔ", " login@example.test "],
)
def test_other_spellings_of_an_e_mail_get_no_fresh_guesses(client, login_user, spelling):
    for _ in range(3):
        sign_in(client, spelling, WRONG)
    assert LOCKED in sign_in(client, "login@example.test").content.decode()
    assert api_sign_in("login@example.test").status_code == 429


def test_a_unicode_spelling_signs_in_the_account_it_names(client, login_user):
    response = sign_in(client, "ＬＯＧＩＮ＠example.test")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(login_user.pk)


def test_an_unknown_identifier_is_counted_as_well(client, db):
    for _ in range(3):
        sign_in(client, "Nobody@Example.test", WRONG)
    assert api_sign_in("nobody@example.test").status_code == 429


@override_settings(LOGIN_IP_FAILURE_LIMIT=4)
def test_one_address_trying_many_accounts_is_stopped_and_others_are_not(client, login_user):
    for n in range(4):
        sign_in(client, f"someone{n}@example.test", WRONG, ip="10.0.0.7")
    assert LOCKED in sign_in(client, login_user.email, ip="10.0.0.7").content.decode()
    assert api_sign_in(login_user.email, ip="10.0.0.7").status_code == 429
    assert sign_in(Client(), login_user.email, ip="10.0.0.8").status_code == 302


def test_a_wrong_second_factor_counts_as_a_failed_sign_in(client, mfa_staff):
    assert sign_in(client, mfa_staff.email)["Location"] == MFA_STEP
    for _ in range(3):
        assert client.post(MFA_STEP, {"code": wrong_code()}).status_code == 200
    # Locked: not even the right code passes, nor the password elsewhere.
    response = post(client, MFA_STEP, {"code": code_now()})
    assert LOCKED in response.content.decode()
    assert signed_in_user_id(client) is None
    assert LOCKED in sign_in(Client(), mfa_staff.email).content.decode()


def test_a_right_password_does_not_refill_the_second_factors_guesses(mfa_staff):
    # Each password typed right opens the code step, but the count goes on until a sign-in
    # completes: three wrong codes over three sign-ins lock the account.
    for _ in range(3):
        client = Client()
        assert sign_in(client, mfa_staff.email)["Location"] == MFA_STEP
        client.post(MFA_STEP, {"code": wrong_code()})
    assert LOCKED in sign_in(Client(), mfa_staff.email).content.decode()


def test_a_completed_sign_in_with_the_second_factor_clears_the_count(client, mfa_staff):
    sign_in(Client(), mfa_staff.email, WRONG)
    sign_in(Client(), mfa_staff.email, WRONG)
    sign_in(client, mfa_staff.email)
    assert client.post(MFA_STEP, {"code": code_now()}).status_code == 302
    assert signed_in_user_id(client) == str(mfa_staff.pk)
    for _ in range(2):
        sign_in(Client(), mfa_staff.email, WRONG)
    assert sign_in(Client(), mfa_staff.email)["Location"] == MFA_STEP


def test_wrong_sign_in_codes_lock_the_password_form_too(client, phone_patient):
    for _ in range(3):
        wrong_sign_in_code(Client(), "+79145551234")
    assert LOCKED in sign_in(client, phone_patient.user.email).content.decode()


def test_wrong_api_otps_lock_the_sign_in_form(mfa_staff):
    for _ in range(3):
        assert api_sign_in(mfa_staff.email, otp=wrong_code()).status_code == 401
    assert LOCKED in sign_in(Client(), mfa_staff.email).content.decode()


# --- The admin signs in through allauth -----------------------------------------------------


def test_the_admin_login_page_sends_to_the_sites_sign_in(client):
    response = client.get("/admin/login/?next=/admin/portal/clinic/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fportal%2Fclinic%2F"


def test_the_admin_login_form_signs_nobody_in(client, network_admin):
    verify_email(network_admin)
    response = client.post(
        "/admin/login/", {"username": network_admin.email, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None


def test_the_admin_login_keeps_only_local_next_addresses(client):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_an_admin_signs_in_with_password_and_code_and_reaches_the_admin(client, network_admin):
    verify_email(network_admin)
    TOTP.activate(network_admin, SECRET)
    response = client.post(
        "/accounts/login/?next=/admin/",
        {"login": network_admin.email, "password": DEMO_PASSWORD},
    )
    assert response["Location"] == MFA_STEP
    response = client.post(MFA_STEP, {"code": code_now()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("persona", ["network_admin", "django_staff"])
def test_an_admin_session_that_skipped_mfa_cannot_open_the_admin(persona, request):
    user = (
        request.getfixturevalue("network_admin")
        if persona == "network_admin"
        else UserFactory(is_staff=True)
    )
    TOTP.activate(user, SECRET)
    response = staff_client(user).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(MFA_CONFIRM)


def test_the_admin_itself_refuses_a_session_that_skipped_mfa(network_admin, settings):
    # Even without the middleware (a future change of MIDDLEWARE), the admin asks the policy.
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "portal.middleware.StaffMfaRequiredMiddleware"
    ]
    TOTP.activate(network_admin, SECRET)
    response = staff_client(network_admin).get("/admin/portal/clinic/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- A staff session must have passed MFA itself ---------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_with_a_session_that_skipped_mfa_is_asked_for_the_code(clinic_a, role):
    staff = make_staff(role, clinic_a)
    TOTP.activate(staff, SECRET)
    response = staff_client(staff).get("/home/")
    assert response.status_code == 302
    assert response["Location"] == f"{MFA_CONFIRM}?next=%2Fhome%2F"


def test_entering_the_code_opens_the_session_and_goes_back(mfa_staff):
    client = staff_client(mfa_staff)
    page = client.get(f"{MFA_CONFIRM}?next=/me/security/")
    assert page.status_code == 200
    response = client.post(f"{MFA_CONFIRM}?next=/me/security/", {"code": code_now()})
    assert response["Location"] == "/me/security/"
    assert client.get("/me/security/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_wrong_codes_there_count_in_the_lockout(mfa_staff):
    client = staff_client(mfa_staff)
    for _ in range(3):
        client.post(MFA_CONFIRM, {"code": wrong_code()})
    assert LOCKED in post(client, MFA_CONFIRM, {"code": code_now()}).content.decode()
    assert client.get("/home/")["Location"].startswith(MFA_CONFIRM)


def test_recovery_codes_stay_closed_until_the_code_is_entered(mfa_staff):
    response = staff_client(mfa_staff).get("/accounts/2fa/recovery-codes/")
    assert response["Location"].startswith(MFA_CONFIRM)


def test_the_api_refuses_a_staff_session_that_skipped_mfa(mfa_staff):
    response = staff_client(mfa_staff).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert "two-factor" in response.json()["detail"]


def test_a_staff_session_that_passed_mfa_uses_pages_and_the_api(mfa_staff, as_user):
    client = as_user(mfa_staff)
    assert client.get("/home/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_patient_session_is_not_asked_for_a_code(patient):
    TOTP.activate(patient.user, SECRET)
    assert staff_client(patient.user).get("/home/").status_code == 200
