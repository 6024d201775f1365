"""API tokens (django-rest-knox): stored hashed, one per sign-in, listed and revoked by their
owner, expiring (sooner for staff, and after the idle timeout), and refused once the password
changes or the login is deactivated."""

import datetime
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken
from tests.factories import DEMO_PASSWORD
from tests.portal.auth.conftest import STRONG_PASSWORD, verify_email

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LIST_URL = "/api/v1/auth/tokens/"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def sign_in(user, *, otp="", agent="python-requests/2.32"):
    body = {"email": user.email, "password": DEMO_PASSWORD, "otp": otp}
    response = APIClient().post(TOKEN_URL, body, format="json", HTTP_USER_AGENT=agent)
    assert response.status_code == 200, response.content
    return response.json()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def code_now() -> str:
    return format_hotp_value(hotp_value(SECRET, int(time.time()) // 30))


@pytest.fixture
def mfa_registrar(registrar_a):
    TOTP.activate(registrar_a, SECRET)
    return registrar_a


# --- Stored hashed, one per sign-in --------------------------------------------------------


def test_only_a_digest_of_the_token_is_stored(patient):
    token = sign_in(patient.user)["token"]
    row = ApiToken.objects.get(user=patient.user)
    assert row.digest != token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_apitoken")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert token not in stored


def test_each_sign_in_is_a_device_in_the_owners_list(patient, other_patient):
    first = sign_in(patient.user, agent=FIREFOX_ANDROID)
    second = sign_in(patient.user)
    sign_in(other_patient.user)
    response = client_with(first["token"]).get(LIST_URL)
    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()}
    assert set(listed) == {first["id"], second["id"]}
    assert listed[first["id"]]["label"] == "Firefox · Android"
    assert listed[second["id"]]["label"] == "Python"
    assert listed[first["id"]]["current"] is True
    assert listed[second["id"]]["current"] is False
    for item in listed.values():
        assert item["created"] and item["last_used"] and item["expiry"]
        assert "token" not in item


def test_the_list_is_open_to_a_session_and_closed_to_anonymous(patient, as_user, api):
    sign_in(patient.user)
    listed = as_user(patient.user).get(LIST_URL).json()
    assert len(listed) == 1
    assert listed[0]["current"] is False
    anonymous = api.get(LIST_URL)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith("application/problem+json")


# --- Revoking ------------------------------------------------------------------------------


def test_revoking_the_current_token_signs_this_device_out(patient):
    kept = sign_in(patient.user)
    signed_out = sign_in(patient.user)
    client = client_with(signed_out["token"])
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert client_with(kept["token"]).get("/api/v1/me/").status_code == 200


def test_revoking_the_current_token_needs_a_token(patient, as_user, api):
    response = as_user(patient.user).delete(TOKEN_URL)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:medfront:problem:no-token"
    assert api.delete(TOKEN_URL).status_code == 401


def test_a_device_is_revoked_from_another(patient):
    phone = sign_in(patient.user)
    laptop = sign_in(patient.user)
    response = client_with(laptop["token"]).delete(f"{LIST_URL}{phone['id']}/")
    assert response.status_code == 204
    assert client_with(phone["token"]).get("/api/v1/me/").status_code == 401
    assert [item["id"] for item in client_with(laptop["token"]).get(LIST_URL).json()] == [
        laptop["id"]
    ]


def test_someone_elses_or_an_unknown_token_is_404(patient, other_patient, api):
    mine = sign_in(patient.user)
    theirs = sign_in(other_patient.user)
    client = client_with(mine["token"])
    assert client.delete(f"{LIST_URL}{theirs['id']}/").status_code == 404
    unknown = client.delete(f"{LIST_URL}00000000-0000-4000-8000-000000000000/")
    assert unknown.status_code == 404
    assert unknown["Content-Type"].startswith("application/problem+json")
    assert client_with(theirs["token"]).get("/api/v1/me/").status_code == 200
    assert api.delete(f"{LIST_URL}{theirs['id']}/").status_code == 401


# --- Expiry ----------------------------------------------------------------------------------


@override_settings(
    API_TOKEN_TTL=datetime.timedelta(hours=720), API_TOKEN_TTL_STAFF=datetime.timedelta(hours=12)
)
def test_staff_tokens_expire_sooner(patient, mfa_registrar):
    now = timezone.now()
    patient_expiry = datetime.datetime.fromisoformat(sign_in(patient.user)["expiry"])
    staff_expiry = datetime.datetime.fromisoformat(sign_in(mfa_registrar, otp=code_now())["expiry"])
    assert abs(patient_expiry - (now + datetime.timedelta(hours=720))).total_seconds() < 60
    assert abs(staff_expiry - (now + datetime.timedelta(hours=12))).total_seconds() < 60


def test_an_expired_token_is_refused_and_deleted(patient):
    token = sign_in(patient.user)["token"]
    ApiToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    response = client_with(token).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_patient_token_that_becomes_a_staff_token_gets_the_staff_lifetime(
    patient, clinic_a, settings
):
    from tests.factories import StaffMembershipFactory

    token = sign_in(patient.user)["token"]
    ApiToken.objects.update(created=timezone.now() - settings.API_TOKEN_TTL_STAFF)
    StaffMembershipFactory(user=patient.user, role="registrar", clinic=clinic_a)
    assert client_with(token).get("/api/v1/me/").status_code == 401


def test_a_staff_token_unused_longer_than_the_idle_timeout_is_refused(mfa_registrar, settings):
    token = sign_in(mfa_registrar, otp=code_now())["token"]
    client = client_with(token)
    assert client.get("/api/v1/me/").status_code == 200
    idle = timezone.now() - settings.STAFF_IDLE_TIMEOUT - datetime.timedelta(minutes=1)
    ApiToken.objects.update(last_used_at=idle)
    response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert "not used for too long" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_patient_token_may_rest_longer_than_the_staff_idle_timeout(patient, settings):
    token = sign_in(patient.user)["token"]
    ApiToken.objects.update(last_used_at=timezone.now() - 10 * settings.STAFF_IDLE_TIMEOUT)
    assert client_with(token).get("/api/v1/me/").status_code == 200


def test_use_is_recorded_at_most_once_a_minute(patient, django_assert_num_queries):
    token = sign_in(patient.user)["token"]
    row = ApiToken.objects.get()
    ApiToken.objects.update(last_used_at=timezone.now() - datetime.timedelta(minutes=5))
    client = client_with(token)
    client.get("/api/v1/auth/tokens/")
    row.refresh_from_db()
    assert timezone.now() - row.last_used_at < datetime.timedelta(seconds=5)
    from portal.api.authentication import MfaEnforcingTokenAuthentication

    with django_assert_num_queries(1):
        MfaEnforcingTokenAuthentication().authenticate_credentials(token.encode())


# --- Revoked by password changes and deactivation -------------------------------------------


def test_changing_the_password_revokes_every_token(patient, as_user):
    token = sign_in(patient.user)["token"]
    verify_email(patient.user)
    client = as_user(patient.user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": DEMO_PASSWORD, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=patient.user).exists()
    assert client_with(token).get("/api/v1/me/").status_code == 401


def test_a_password_reset_revokes_every_token(patient, client):
    import re

    from tests.mail import sent_mails

    token = sign_in(patient.user)["token"]
    verify_email(patient.user)
    client.post("/accounts/password/reset/", {"email": patient.user.email})
    path = re.search(r"https?://testserver(/accounts/[^\s]+/)", sent_mails()[0].body).group(1)
    form_page = client.get(path, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    assert not ApiToken.objects.filter(user=patient.user).exists()
    assert client_with(token).get("/api/v1/me/").status_code == 401


def test_a_password_set_any_other_way_refuses_older_tokens(patient):
    # The admin, a shell, a management command: no allauth signal, yet the token knows.
    token = sign_in(patient.user)["token"]
    patient.user.set_password(STRONG_PASSWORD)
    patient.user.save(update_fields=["password"])
    response = client_with(token).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert "password has changed" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_deactivated_login_is_refused_and_its_tokens_deleted(patient):
    tokens = [sign_in(patient.user)["token"] for _ in range(2)]
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])
    assert client_with(tokens[0]).get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.filter(user=patient.user).exists()


# --- Staff tokens and MFA ---------------------------------------------------------------------


def test_a_staff_token_issued_without_the_second_factor_is_refused(mfa_registrar):
    # A token made outside the sign-in endpoint (knox's own API) has not passed MFA.
    _row, token = ApiToken.objects.create(mfa_registrar)
    response = client_with(token).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_a_staff_token_from_a_sign_in_with_the_code_works(mfa_registrar):
    token = sign_in(mfa_registrar, otp=code_now())["token"]
    assert client_with(token).get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.get().mfa_verified is True


def test_a_token_made_with_knoxs_public_api_works_for_a_patient(patient):
    _row, token = ApiToken.objects.create(patient.user)
    assert client_with(token).get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token ÿÿÿ", "Token " + "f" * 64])
def test_malformed_or_unknown_tokens_are_401(api, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_stale_token_does_not_stop_signing_in_again(patient):
    old = sign_in(patient.user)["token"]
    ApiToken.objects.all().delete()
    client = client_with(old)
    response = client.post(
        TOKEN_URL, {"email": patient.user.email, "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_signing_in_removes_the_logins_expired_tokens(patient):
    sign_in(patient.user)
    ApiToken.objects.update(expiry=timezone.now() - datetime.timedelta(days=1))
    sign_in(patient.user)
    assert ApiToken.objects.filter(user=patient.user).count() == 1


@pytest.mark.parametrize(
    "persona",
    ["registrar_a", "doctor_a", "head_nurse_a", "clinic_admin_a", "director", "marketer"],
)
def test_every_role_sees_only_its_own_tokens(persona, request, patient, as_user):
    sign_in(patient.user)
    user = request.getfixturevalue(persona)
    client = as_user(user)
    assert client.get(LIST_URL).json() == []
    patients_token = ApiToken.objects.get(user=patient.user)
    assert client.delete(f"{LIST_URL}{patients_token.public_id}/").status_code == 404
    assert ApiToken.objects.filter(pk=patients_token.pk).exists()


@pytest.mark.parametrize("persona", ["registrar_a", "director"])
def test_staff_sessions_that_skipped_mfa_cannot_list_or_revoke(persona, request):
    from tests.portal.auth.conftest import staff_client

    user = request.getfixturevalue(persona)
    TOTP.activate(user, SECRET)
    client = staff_client(user)
    assert client.get(LIST_URL).status_code == 403
    assert client.delete(TOKEN_URL).status_code == 403


def test_other_methods_on_the_token_endpoint_are_405_for_anyone(api):
    response = api.get(TOKEN_URL)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")
