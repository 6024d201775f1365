"""The lockout and the code limits live in the store every worker shares (Redis). When it does
not answer, signing in waits with a clear 503 instead of guessing without counters; never a
500. The Redis tests run only when REDIS_URL names a server (CI and the PostgreSQL run)."""

import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.choices import ConsentPurpose
from portal.consent_texts import ensure_consent_documents
from portal.services import lockout
from tests.factories import DEMO_PASSWORD, PatientWithLoginFactory
from tests.portal.auth.conftest import sign_in, signed_in_user_id, verify_email

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("REDIS_URL", "")
# Nothing listens on port 1: every cache call fails at once with a connection error.
DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


# --- The store is down -------------------------------------------------------------------


@override_settings(CACHES=DOWN)
def test_signing_in_waits_with_a_translated_503(client, login_user):
    response = sign_in(client, login_user.email)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Signing in is unavailable for a moment" in response.content.decode()
    assert signed_in_user_id(client) is None
    russian = client.post(
        "/accounts/login/",
        {"login": login_user.email, "password": DEMO_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert russian.status_code == 503
    assert "Вход временно недоступен" in russian.content.decode()


@override_settings(CACHES=DOWN)
def test_the_api_token_endpoint_answers_a_503_problem(login_user):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": login_user.email, "password": DEMO_PASSWORD},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["Retry-After"] == "60"
    assert response.json()["type"] == "urn:medfront:problem:sign-in-unavailable"
    assert "unavailable" in response.json()["detail"]


@override_settings(CACHES=DOWN)
def test_asking_for_a_sign_in_code_waits_too(client, db):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    verify_email(patient.user)
    response = client.post("/accounts/login/code/", {"phone": "+79145551234"})
    assert response.status_code == 503


def test_a_consent_code_waits_too(patient, as_user):
    ensure_consent_documents()
    client = as_user(patient.user)
    url = reverse("portal:consent_sign", args=[patient.public_id, ConsentPurpose.ADVERTISING])
    with override_settings(CACHES=DOWN):
        response = client.post(url, {"action": "send"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "Please try again in a minute" in response.content.decode()


# --- The store is Redis, shared by every worker ------------------------------------------


@pytest.fixture
def shared_store():
    """The default cache on the real Redis, under a prefix of this test's own, removed after.

    (Never `cache.clear()` there: that empties the whole Redis database of other workers.)
    """
    prefix = f"test-{uuid.uuid4().hex}"
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "KEY_FUNCTION": "portal.crypto.cache_key",
        }
    }
    with override_settings(CACHES=config):
        yield prefix
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def count_failures_in_another_process(*, prefix: str, subject: str, times: int) -> None:
    """Another worker (a separate Python process with the production settings module) counts
    failures in the same store."""
    script = (
        "import django; django.setup(); from portal.services import lockout\n"
        f"for _ in range({times}): lockout.login_failed(subject={subject!r}, ip='127.0.0.1')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "0",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@needs_redis
@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_failures_counted_by_another_worker_lock_the_account_here(shared_store, login_user):
    count_failures_in_another_process(
        prefix=shared_store, subject=lockout.user_subject(user=login_user), times=3
    )
    client = Client()
    response = sign_in(client, login_user.email)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert signed_in_user_id(client) is None


@needs_redis
@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_redis_holds_only_digests_with_an_expiry(shared_store, login_user):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    verify_email(patient.user)
    sign_in(Client(), login_user.email, "wrong-password")
    sign_in(Client(), "8 914 555-12-34", "wrong-password")
    Client().post("/accounts/login/code/", {"phone": "+79145551234"})
    server = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in server.scan_iter(f"{shared_store}:*")]
    assert len(keys) >= 4
    # Every key is a keyed digest (KEY_FUNCTION), allauth's rate limits included: their plain
    # SHA-256 of the e-mail, or the IP, would name the person to anyone reading the store.
    plain_hash = hashlib.sha256(b"login@example.test").hexdigest()
    for key in keys:
        assert re.fullmatch(rf"{shared_store}:1:[0-9a-f]{{64}}", key)
        assert plain_hash not in key and "127.0.0.1" not in key
        assert server.ttl(key) > 0
    assert caches["default"].get("anything") is None


@needs_redis
def test_code_limits_are_counted_in_redis_too(shared_store, db):
    patient = PatientWithLoginFactory(phone="+79145551234", phone_verified_at=timezone.now())
    verify_email(patient.user)
    assert Client().post("/accounts/login/code/", {"phone": "+79145551234"}).status_code == 302
    response = Client().post(
        "/accounts/login/code/", {"phone": "+79145551234"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Too many codes were requested" in response.content.decode()


# --- The answers themselves, wherever the error comes from -------------------------------


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/api/v1/auth/token/", "sign-in-unavailable"),
        ("/api/v1/slots/", "service-unavailable"),
    ],
)
def test_a_redis_error_under_the_api_is_a_503_problem(rf, path, slug):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from portal.middleware import TryLaterMiddleware

    response = TryLaterMiddleware(lambda r: None).process_exception(
        rf.post(path), RedisConnectionError("refused")
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "60"
    assert json.loads(response.content)["type"] == f"urn:medfront:problem:{slug}"


def test_a_refused_code_under_the_api_is_a_429_problem_with_retry_after(rf):
    from portal.auth.codes import CodeRateLimited
    from portal.middleware import TryLaterMiddleware
    from portal.services.code_limits import CodeLimitReached

    refused = CodeRateLimited(CodeLimitReached("Too many codes.", retry_after=42))
    response = TryLaterMiddleware(lambda r: None).process_exception(rf.post("/api/v1/x/"), refused)
    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert json.loads(response.content)["detail"] == "Too many codes."
    assert TryLaterMiddleware(lambda r: None).process_exception(rf.get("/"), ValueError()) is None
