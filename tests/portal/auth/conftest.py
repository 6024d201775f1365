"""Helpers of the sign-in tests: verified logins, fresh rate-limit state, staff without MFA."""

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client

from tests.factories import DEMO_PASSWORD, UserFactory

STRONG_PASSWORD = "Kx8#mPq2vL9z-Medfront"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Lockout counters and allauth's rate limits live in the cache.
    cache.clear()
    yield
    cache.clear()


def verify_email(user) -> EmailAddress:
    address, _created = EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return address


@pytest.fixture
def login_user(db):
    """A login with a verified e-mail and the factories' password, without a profile."""
    user = UserFactory(email="login@example.test")
    verify_email(user)
    return user


def sign_in(client: Client, login: str, password: str = DEMO_PASSWORD, ip: str = "127.0.0.1"):
    # English pages, so assertions on messages hold whatever the default language is.
    return client.post(
        "/accounts/login/",
        {"login": login, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


def staff_client(user) -> Client:
    """A session for `user` straight away: no authenticator app is set up for them."""
    client = Client()
    client.force_login(user)
    return client
