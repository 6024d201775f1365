"""Which lane a message goes in, and the per-provider rate limits.

Two dispatchers run on two Celery queues (`CELERY_TASK_ROUTES`): `critical` sends what a
patient waits for (a booking's confirmation, a cancellation, a sign-in code) and `bulk` sends
mass messages (a whole day's reminders, campaigns), so a campaign of ten thousand never delays a
confirmation. Each provider may be limited to N calls per window (NOTIFICATION_RATE_LIMITS): a
counter per provider and window in the shared cache, incremented atomically (Redis INCR), is a
token bucket refilled once per window. A message over the limit is deferred to the next window,
not failed, and its claim does not count as an attempt.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from notifications.choices import Lane

# Events that go out in bulk: reminders are recorded for a whole day at once, campaigns for
# a whole segment.
BULK_EVENTS = frozenset({"appointment.reminder"})
BULK_PREFIXES = ("campaign.",)


def lane_for_event(event: str) -> str:
    if event in BULK_EVENTS or event.startswith(BULK_PREFIXES):
        return Lane.BULK
    return Lane.CRITICAL


class RateLimited(Exception):
    """The provider's calls for this window are used up; try again in `retry_after` seconds."""

    def __init__(self, provider: str, retry_after: float):
        super().__init__(f"{provider} rate limit reached")
        self.provider = provider
        self.retry_after = retry_after


def provider_take(provider: str, *, now: float | None = None) -> None:
    """Take one call from `provider`'s bucket, or raise RateLimited when it is empty. A
    provider without a configured limit is never limited."""
    limit = settings.NOTIFICATION_RATE_LIMITS.get(provider)
    if limit is None:
        return
    calls, window = limit
    moment = time.time() if now is None else now
    slot = int(moment // window)
    key = f"notifications:rate:{provider}:{window}:{slot}"
    # `add` creates the window's counter only if it is missing; `incr` is atomic in Redis, so
    # every worker counts in the same bucket.
    cache.add(key, 0, timeout=window * 2)
    try:
        used = cache.incr(key)
    except ValueError:
        # The counter expired between add and incr: this call opens the window again.
        cache.add(key, 1, timeout=window * 2)
        used = 1
    if used > calls:
        raise RateLimited(provider, retry_after=(slot + 1) * window - moment)
