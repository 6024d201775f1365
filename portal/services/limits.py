"""Counters in the shared store (the Django cache: Redis in production) for the sign-in lockout
and the code limits.

Keys are keyed digests (`portal.crypto.blind_index`) of what is counted, so no e-mail, phone or
address reaches the store. A store that does not answer raises `StoreUnavailable`, which pages
and the API answer with 503: signing in without the counters would hand out unlimited guesses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from portal.crypto import blind_index
from portal.errors import PortalError

T = TypeVar("T")


class StoreUnavailable(PortalError):
    """The shared store of the lockout and rate limits does not answer."""

    http_status = 503
    code = "sign-in-unavailable"
    default_message = _("Signing in is unavailable for a moment. Please try again in a minute.")


def store_key(scope: str, material: str) -> str:
    """The cache key of `material` (an identifier, an address...) counted under `scope`."""
    return f"limits:{scope}:{blind_index(f'limits:{scope}', material)}"


def _store(operation: Callable[[], T]) -> T:
    try:
        return operation()
    except (RedisError, OSError) as exc:
        # Connection refused, timeouts, a full or read-only server: the counters are unknown.
        raise StoreUnavailable from exc


def counter_value(*, key: str) -> int:
    value = _store(lambda: cache.get(key))
    return value if isinstance(value, int) else 0


def counter_add(*, key: str, window: timedelta, sliding: bool = False) -> int:
    """Count one event and return the count in the current window.

    A fixed window starts at the first event; a sliding one (`sliding=True`) ends `window` after
    the latest event. `counter_retry_after` says when the count lapses.
    """
    seconds = max(1, math.ceil(window.total_seconds()))
    until_key = f"{key}:until"

    def add() -> int:
        if cache.add(key, 1, seconds):
            cache.set(until_key, time.time() + seconds, seconds)
            return 1
        try:
            count = int(cache.incr(key))
        except ValueError:
            # The counter lapsed between add() and incr(): this event starts a new window.
            cache.set(key, 1, seconds)
            cache.set(until_key, time.time() + seconds, seconds)
            return 1
        if sliding:
            cache.touch(key, seconds)
            cache.set(until_key, time.time() + seconds, seconds)
        return count

    return _store(add)


def counter_retry_after(*, key: str) -> int:
    """Seconds until the counter at `key` lapses (at least 1)."""
    until = _store(lambda: cache.get(f"{key}:until"))
    if not isinstance(until, int | float):
        return 1
    return max(1, math.ceil(until - time.time()))


def counter_clear(*, key: str) -> None:
    _store(lambda: cache.delete_many([key, f"{key}:until"]))
