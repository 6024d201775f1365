"""Start-up refusal of a per-process cache without DEBUG: the sign-in lockout and the code
limits count in the cache, and counters kept by each worker apart give every worker (and every
restart) a fresh set of guesses."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Backends whose data is private to one process (or kept nowhere at all).
UNSHARED_CACHE_BACKENDS = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


def refuse_unshared_cache_without_debug() -> None:
    """Raise ImproperlyConfigured when, without DEBUG, the default cache is not shared by the
    workers and ALLOW_UNSHARED_CACHE (test and benchmark settings only) does not allow it."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or settings.ALLOW_UNSHARED_CACHE or backend not in UNSHARED_CACHE_BACKENDS:
        return
    raise ImproperlyConfigured(
        f"REDIS_URL is not set, so CACHES['default'] is {backend.rsplit('.', 1)[-1]}, private to "
        "each process. The sign-in lockout and the code limits must be counted in a store "
        "shared by every worker: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
    )
