"""Lockout per account + client IP with a cool-off, hooked into allauth's sign-in."""

import datetime

import pytest
from django.core.cache import cache
from django.core.cache.backends import locmem
from django.test import override_settings
from django.utils import timezone

from portal.models import User
from tests.factories import PatientWithLoginFactory
from tests.portal.auth.conftest import sign_in, signed_in_user_id, verify_email

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_limit_three"),
]

WRONG = "definitely-not-it"
LOCKED = "Too many failed sign-in attempts"


@pytest.fixture
def _limit_three():
    with override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_COOLOFF=datetime.timedelta(minutes=15)):
        yield


def fail(client, login, times, ip="127.0.0.1"):
    for _ in range(times):
        response = sign_in(client, login, WRONG, ip=ip)
        assert response.status_code == 200
        assert signed_in_user_id(client) is None


def test_the_account_is_locked_for_this_ip_after_the_limit(client, login_user):
    fail(client, login_user.email, 3)
    response = sign_in(client, login_user.email)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_locked_attempt_does_not_even_try_the_password(client, login_user, monkeypatch):
    fail(client, login_user.email, 3)
    checked = []
    original = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda self, raw: checked.append(1) or original(self, raw)
    )
    sign_in(client, login_user.email)
    assert checked == []


def test_other_ips_for_the_same_account_are_unaffected(client, login_user):
    fail(client, login_user.email, 3, ip="10.0.0.1")
    response = sign_in(client, login_user.email, ip="10.0.0.2")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(login_user.pk)


def test_other_accounts_from_the_same_ip_are_unaffected(client, login_user):
    fail(client, "someone.else@example.test", 5)
    assert sign_in(client, login_user.email).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, login_user, monkeypatch):
    fail(client, login_user.email, 3)
    assert LOCKED in sign_in(client, login_user.email).content.decode()
    later = locmem.time.time() + 15 * 60 + 1

    class _Later:
        @staticmethod
        def time():
            return later

    monkeypatch.setattr(locmem, "time", _Later)
    response = sign_in(client, login_user.email)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(login_user.pk)


def test_a_success_resets_the_counter(client, login_user):
    fail(client, login_user.email, 2)
    assert sign_in(client, login_user.email).status_code == 302
    client.logout()
    fail(client, login_user.email, 2)
    assert sign_in(client, login_user.email).status_code == 302


def test_a_phone_is_counted_whatever_way_it_is_typed(client):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    verify_email(patient.user)
    for typed in ("+79145551234", "8 914 555-12-34", "+7 (914) 555 12 34"):
        fail(client, typed, 1)
    response = sign_in(client, "89145551234")
    assert LOCKED in response.content.decode()


def test_a_completed_password_reset_lifts_the_lock_for_that_ip(client, login_user):
    import re

    from tests.mail import sent_mails

    fail(client, login_user.email, 3)
    client.post("/accounts/password/reset/", {"email": login_user.email})
    path = re.search(r"https?://testserver(/accounts/[^\s]+/)", sent_mails()[0].body).group(1)
    form_page = client.get(path, follow=True)
    new_password = "Another#Strong-pass-42"
    client.post(
        form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password}
    )
    response = sign_in(client, login_user.email, new_password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(login_user.pk)


def test_no_e_mail_or_phone_appears_in_cache_keys(client, login_user):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    fail(client, login_user.email, 2)
    fail(client, "8 914 555-12-34", 2)
    keys = list(cache._cache.keys())
    assert keys  # something was counted
    for key in keys:
        for secret in (login_user.email, "login@", "example.test", "9145551234", patient.phone):
            assert secret not in key
