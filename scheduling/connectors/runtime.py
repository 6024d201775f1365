"""Running a connector's calls: the adapter built from a clinic's configuration, every call
logged (operation, latency, outcome, error class), and a circuit breaker per connector whose
state lives in the Django cache (Redis in production) so that every worker agrees.

A call refused by the circuit is not tried and is logged as `circuit_open`; the caller falls
back exactly as for an unreachable system (`ConnectorUnavailable` is raised).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import TypeVar

import pybreaker
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from scheduling.choices import ConnectorOutcome
from scheduling.models import ClinicConnector, ConnectorCall

from . import fhir, ics  # noqa: F401 - each registers its connector type
from .base import (
    BookingRefused,
    Connector,
    ConnectorError,
    ConnectorSettings,
    ConnectorTimeout,
    ConnectorUnavailable,
    NotConfigured,
    ReadOnly,
    SlotGone,
    build,
)

T = TypeVar("T")

# Business answers: the system worked and said no. They do not open the circuit.
NOT_FAULTS: tuple[type[ConnectorError], ...] = (SlotGone, BookingRefused, ReadOnly, NotConfigured)


class CircuitOpen(ConnectorUnavailable):
    """The circuit is open: the system failed repeatedly and is left alone for a while."""


class CacheCircuitStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's state in the Django cache, under keys of one connector."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.prefix = f"connector-breaker:{name}:"
        self.ttl = 24 * 3600

    def _get(self, what: str, default):
        return cache.get(self.prefix + what, default)

    def _set(self, what: str, value) -> None:
        cache.set(self.prefix + what, value, self.ttl)

    @property
    def state(self) -> str:
        return self._get("state", pybreaker.STATE_CLOSED)

    @state.setter
    def state(self, state: str) -> None:
        self._set("state", state)

    def increment_counter(self) -> None:
        self._incr("counter")

    def reset_counter(self) -> None:
        self._set("counter", 0)

    def increment_success_counter(self) -> None:
        self._incr("success")

    def reset_success_counter(self) -> None:
        self._set("success", 0)

    def _incr(self, what: str) -> None:
        # add() then incr() is atomic on Redis, so concurrent workers count every failure.
        cache.add(self.prefix + what, 0, self.ttl)
        try:
            cache.incr(self.prefix + what)
        except ValueError:
            self._set(what, 1)

    @property
    def counter(self) -> int:
        return int(self._get("counter", 0))

    @property
    def success_counter(self) -> int:
        return int(self._get("success", 0))

    @property
    def opened_at(self) -> datetime.datetime | None:
        return self._get("opened_at", None)

    @opened_at.setter
    def opened_at(self, value: datetime.datetime) -> None:
        self._set("opened_at", value)

    def forget(self) -> None:
        cache.delete_many([self.prefix + w for w in ("state", "counter", "success", "opened_at")])


def breaker_for(row: ClinicConnector) -> pybreaker.CircuitBreaker:
    return pybreaker.CircuitBreaker(
        fail_max=settings.CONNECTOR_BREAKER_FAIL_MAX,
        reset_timeout=settings.CONNECTOR_BREAKER_RESET_SECONDS,
        exclude=list(NOT_FAULTS),
        state_storage=CacheCircuitStorage(str(row.pk)),
        name=f"connector-{row.pk}",
        throw_new_error_on_trip=False,
    )


def circuit_state(row: ClinicConnector) -> str:
    """`closed`, `open` or `half-open`, as every worker sees it."""
    return CacheCircuitStorage(str(row.pk)).state


def adapter_for(row: ClinicConnector) -> Connector:
    return build(
        row.kind,
        ConnectorSettings(
            base_url=row.base_url,
            secret=row.secret or "",
            timeout=float(row.timeout_seconds),
            options=dict(row.settings or {}),
            clinic_timezone=row.clinic.timezone,
            clinic_id=row.clinic_id,
        ),
    )


def _outcome(exc: BaseException | None) -> str:
    if exc is None:
        return ConnectorOutcome.OK
    if isinstance(exc, CircuitOpen):
        return ConnectorOutcome.CIRCUIT_OPEN
    if isinstance(exc, ConnectorTimeout):
        return ConnectorOutcome.TIMEOUT
    if isinstance(exc, NOT_FAULTS):
        return ConnectorOutcome.REFUSED
    return ConnectorOutcome.ERROR


def run(row: ClinicConnector, operation: str, fn: Callable[[Connector], T]) -> T:
    """`fn(adapter)` through the circuit breaker, logged. Raises only `ConnectorError`s: any
    other exception of an adapter (a bug, an unexpected answer) counts as `BadPayload`-like
    unavailability, so the caller's fallback always applies."""
    adapter = adapter_for(row)
    breaker = breaker_for(row)
    began = time.monotonic()
    error: BaseException | None = None
    try:
        return breaker.call(fn, adapter)
    except pybreaker.CircuitBreakerError as exc:
        error = CircuitOpen("circuit open")
        raise error from exc
    except ConnectorError as exc:
        error = exc
        raise
    except Exception as exc:  # noqa: BLE001 - an adapter's bug must not lose a booking
        error = ConnectorUnavailable(type(exc).__name__)
        raise error from exc
    finally:
        ConnectorCall.objects.create(
            connector=row,
            operation=operation,
            outcome=_outcome(error),
            error_class=type(error).__name__ if error is not None else "",
            latency_ms=int((time.monotonic() - began) * 1000),
            at=timezone.now(),
        )
