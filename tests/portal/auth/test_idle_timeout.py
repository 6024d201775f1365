"""Staff sessions end after STAFF_IDLE_TIMEOUT without a request; patients' do not."""

import datetime
import time

import pytest
from django.test import override_settings

from portal.choices import Role
from portal.middleware import StaffIdleTimeoutMiddleware
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PAGE = "/me/security/"
KEY = StaffIdleTimeoutMiddleware.SESSION_KEY


def last_seen(client, minutes_ago: float) -> None:
    session = client.session
    session[KEY] = time.time() - minutes_ago * 60
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("role", list(Role))
def test_an_idle_staff_session_is_signed_out_and_sent_to_sign_in(as_user, clinic_a, role):
    client = as_user(make_staff(role, clinic_a))
    assert client.get(PAGE).status_code == 200
    last_seen(client, 31)
    response = client.get(PAGE + "?tab=mfa")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fme%2Fsecurity%2F%3Ftab%3Dmfa"
    assert not signed_in(client)


def test_the_sign_in_page_says_why(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 45)
    page = client.get(PAGE, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "without activity" in page.content.decode()


def test_htmx_requests_get_an_hx_redirect_back_to_the_page(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 31)
    response = client.get(
        "/staff/patients/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/staff/patients/?q=1234",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fstaff%2Fpatients%2F%3Fq%3D1234"
    assert not signed_in(client)


def test_activity_within_the_timeout_keeps_the_session(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 29)
    assert client.get(PAGE).status_code == 200
    assert signed_in(client)
    # The request counted as activity: the clock starts again.
    assert time.time() - client.session[KEY] < 5


def test_the_timeout_is_configurable(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 6)
    with override_settings(STAFF_IDLE_TIMEOUT=datetime.timedelta(minutes=5)):
        assert client.get(PAGE).status_code == 302
    assert not signed_in(client)


def test_background_polling_does_not_keep_a_session_alive(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 20)
    before = client.session[KEY]
    assert client.get(PAGE, HTTP_X_MEDFRONT_BACKGROUND="1").status_code == 200
    assert client.session[KEY] == before
    last_seen(client, 31)
    assert client.get(PAGE, HTTP_X_MEDFRONT_BACKGROUND="1").status_code == 302


def test_an_idle_api_session_is_signed_out_without_a_redirect(as_user, registrar_a):
    client = as_user(registrar_a)
    client.get(PAGE)
    last_seen(client, 31)
    response = client.get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")
    assert not signed_in(client)


def test_patients_are_not_affected(as_user, patient):
    client = as_user(patient.user)
    assert client.get(PAGE).status_code == 200
    assert KEY not in client.session
    last_seen(client, 600)
    assert client.get(PAGE).status_code == 200
    assert signed_in(client)
