"""POST /api/v1/auth/token/: password (+ otp for MFA accounts) → token; lockout per e-mail+IP."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import override_settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from portal import permissions
from portal.api.authentication import MfaEnforcingTokenAuthentication
from portal.models import ApiToken
from tests.factories import DEMO_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/token/"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def current_code() -> str:
    return format_hotp_value(hotp_value(SECRET, int(time.time()) // 30))


def test_it_gives_a_token_that_authenticates_later_requests(api, patient):
    response = api.post(
        URL, {"email": patient.user.email, "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(patient.user.public_id)


def test_the_e_mail_is_case_insensitive_and_each_sign_in_gets_its_own_token(api, patient):
    first = api.post(
        URL, {"email": patient.user.email.upper(), "password": DEMO_PASSWORD}, format="json"
    )
    second = api.post(URL, {"email": patient.user.email, "password": DEMO_PASSWORD}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["token"] != second.json()["token"]
    assert ApiToken.objects.filter(user=patient.user).count() == 2


@pytest.mark.parametrize("email", ["nobody@example.test", "registrar-a@example.test"])
def test_a_wrong_password_or_unknown_e_mail_is_401(api, registrar_a, email):
    response = api.post(URL, {"email": email, "password": "wrong-password"}, format="json")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:medfront:problem:invalid-credentials"


def test_an_inactive_user_gets_no_token(api):
    user = UserFactory(is_active=False)
    response = api.post(URL, {"email": user.email, "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 401


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_email_and_ip_pair(api, patient):
    for _ in range(3):
        bad = {"email": patient.user.email, "password": "nope-nope-nope"}
        assert api.post(URL, bad, format="json").status_code == 401
    good = {"email": patient.user.email, "password": DEMO_PASSWORD}
    locked = api.post(URL, good, format="json")
    assert locked.status_code == 429
    assert locked.json()["type"] == "urn:medfront:problem:sign-in-locked"
    # Another address is not locked by someone else's typos.
    elsewhere = api.post(URL, good, format="json", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 200


def test_an_mfa_account_needs_the_otp(api, registrar_a):
    TOTP.activate(registrar_a, SECRET)
    response = api.post(URL, {"email": registrar_a.email, "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["otp"]


def test_an_mfa_account_refuses_a_wrong_otp(api, registrar_a):
    TOTP.activate(registrar_a, SECRET)
    wrong = "000000" if current_code() != "000000" else "111111"
    body = {"email": registrar_a.email, "password": DEMO_PASSWORD, "otp": wrong}
    assert api.post(URL, body, format="json").status_code == 401


def test_an_mfa_account_gets_a_token_with_the_right_otp(api, registrar_a):
    TOTP.activate(registrar_a, SECRET)
    body = {"email": registrar_a.email, "password": DEMO_PASSWORD, "otp": current_code()}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json()["token"]


def test_a_wrong_password_on_an_mfa_account_does_not_reveal_mfa(api, registrar_a):
    TOTP.activate(registrar_a, SECRET)
    response = api.post(URL, {"email": registrar_a.email, "password": "bad-bad-bad"}, format="json")
    assert response.status_code == 401
    assert "errors" not in response.json()


def test_session_authentication_works_too(as_user, patient):
    response = as_user(patient.user).get("/api/v1/me/")
    assert response.status_code == 200


def test_staff_without_an_authenticator_app_get_no_token(api, registrar_a):
    body = {"email": registrar_a.email, "password": DEMO_PASSWORD}
    # English, so the message check holds with the Russian catalogue compiled.
    response = api.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert "two-factor" in response.json()["detail"]


def test_a_staff_token_stops_working_once_the_authenticator_is_removed(api, registrar_a):
    from allauth.mfa.models import Authenticator

    TOTP.activate(registrar_a, SECRET)
    body = {"email": registrar_a.email, "password": DEMO_PASSWORD, "otp": current_code()}
    token = api.post(URL, body, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 200
    Authenticator.objects.filter(user=registrar_a).delete()
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 403
    assert ApiToken.objects.filter(user=registrar_a).exists()


def test_a_staff_session_without_mfa_cannot_use_the_api(registrar_a):
    from django.test import Client

    client = Client()
    client.force_login(registrar_a)
    response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Staff accounts must set up")


@override_settings(MFA_EXEMPT_DEMO_STAFF=True)
def test_demo_staff_are_exempt_only_under_the_demo_setting(api, registrar_a):
    registrar_a.is_demo = True
    registrar_a.save(update_fields=["is_demo"])
    body = {"email": registrar_a.email, "password": DEMO_PASSWORD}
    assert api.post(URL, body, format="json").status_code == 200


def test_a_token_loads_the_user_and_whether_they_are_staff_in_one_query(
    patient, django_assert_num_queries
):
    _row, token = ApiToken.objects.create(patient.user)
    with django_assert_num_queries(1):
        user, _token = MfaEnforcingTokenAuthentication().authenticate_credentials(token)
        assert not permissions.is_staff_member(user)
    assert permissions.is_patient(user)
    assert user.patient.pk == patient.pk


def test_a_staff_members_token_still_finds_their_roles(registrar_a):
    _row, token = ApiToken.objects.create(registrar_a)
    user, _token = MfaEnforcingTokenAuthentication().authenticate_credentials(token)
    assert permissions.is_staff_member(user)
    assert not permissions.is_patient(user)


def test_an_unknown_or_inactive_users_token_is_refused(patient):
    auth = MfaEnforcingTokenAuthentication()
    with pytest.raises(AuthenticationFailed):
        auth.authenticate_credentials("no-such-token")
    _row, token = ApiToken.objects.create(patient.user)
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])
    with pytest.raises(AuthenticationFailed):
        auth.authenticate_credentials(token)
    # Refused and deleted: reactivating the login does not bring the token back.
    assert not ApiToken.objects.filter(user=patient.user).exists()
