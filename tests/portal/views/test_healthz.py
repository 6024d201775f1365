"""/healthz: every component's state; 503 when a configured service is down."""

import pytest
import redis
from django.test import override_settings

pytestmark = pytest.mark.django_db

REAL_REDIS = "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REAL_REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@override_settings(REDIS_URL="")
def test_without_a_broker_it_answers_200_with_eager(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "broker": "eager",
        # Reported by the scheduling app (clinics served by external systems); none here.
        "connectors": "none",
    }
    assert "no-cache" in response["Cache-Control"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_a_configured_broker_that_is_down_answers_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["broker"] == "down"
    assert body["database"] == "ok"


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
@override_settings(REDIS_URL=REAL_REDIS)
def test_a_reachable_broker_answers_200_with_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_it_needs_no_sign_in_and_reveals_no_settings(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert set(response.json()) == {"status", "database", "cache", "broker", "connectors"}


def test_a_failing_informational_check_reports_unknown_without_changing_the_status(
    client, monkeypatch
):
    from portal.selectors import health

    def broken() -> str:
        raise RuntimeError("boom")

    monkeypatch.setitem(health.INFORMATIONAL_CHECKS, "broken-for-test", broken)
    with override_settings(REDIS_URL=""):
        body = client.get("/healthz").json()
    assert body["broken-for-test"] == "unknown"
    assert body["status"] == "ok"
