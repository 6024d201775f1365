"""Health of each component, for /healthz and monitoring."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"
        return "down"
    return "ok"


def _check_cache() -> str:
    try:
        cache.set("healthz", "1", 5)
        return "ok" if cache.get("healthz") == "1" else "down"
    except Exception:  # noqa: BLE001
        return "down"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"


# Components that apps report on without deciding this instance's status (an external
# system's trouble is not a reason to take this instance out of a load balancer).
INFORMATIONAL_CHECKS: dict[str, Callable[[], str]] = {}


def register_health_component(name: str, check: Callable[[], str]) -> None:
    """Report `check()` under `name` in /healthz (apps the kernel cannot import)."""
    INFORMATIONAL_CHECKS[name] = check


def _informational() -> dict[str, str]:
    found = {}
    for name, check in INFORMATIONAL_CHECKS.items():
        try:
            found[name] = check()
        except Exception:  # noqa: BLE001 - a failing check reports, never breaks /healthz
            found[name] = "unknown"
    return found


def health_report() -> dict[str, str]:
    components = {
        "database": _check_database(),
        "cache": _check_cache(),
        "broker": _check_broker(),
    }
    status = "ok" if all(state in ("ok", "eager") for state in components.values()) else "down"
    return {"status": status, **components, **_informational()}
