"""Rolled-up figures kept in Django's cache until the rollups change.

The rollups change only when `analytics.services.rollups` refreshes or rebuilds them, and every
such run ends by moving its `RollupState`. The states' read marks are part of each key, so
the first request after a run computes afresh and nothing is ever served staler than the
rollups themselves. Figures read live (today's visits, requests, messages) are never cached.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache

from analytics.models import RollupState

T = TypeVar("T")
# Keys move on with every refresh; the timeout only lets the old ones go.
TIMEOUT_S = 60 * 60


@dataclass(frozen=True)
class RollupMarks:
    """Where the rollups stand, read once per page: `version` keys the cache (None: never
    built, so nothing is worth keeping); `read_up_to` is the oldest watermark, the instant
    before which every source change has been rolled up."""

    version: str | None
    read_up_to: datetime.datetime | None


def rollup_marks() -> RollupMarks:
    states = list(
        RollupState.objects.order_by("name").values_list("name", "watermark", "refreshed_at")
    )
    marks = [
        f"{name}@{watermark.isoformat()}/{done.isoformat()}" for name, watermark, done in states
    ]
    return RollupMarks(
        version=";".join(marks) or None,
        read_up_to=min((watermark for _name, watermark, _done in states), default=None),
    )


def through_cache(
    name: str,
    parts: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    marks: RollupMarks | None = None,
) -> T:
    """`compute()`'s value for `parts` at the rollups' current version, cached. `marks`: the
    rollups' marks when the caller has read them (else one query)."""
    version = (marks or rollup_marks()).version
    if version is None:
        return compute()
    digest = hashlib.sha256(repr((name, version, parts)).encode()).hexdigest()
    key = f"analytics:{name}:{digest}"
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT_S)
    return value
