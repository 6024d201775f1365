"""The connector interface: what every adapter to an external schedule system offers, in
plain typed values, and the registry of adapter types.

An adapter speaks one system's protocol and nothing else: it writes no rows, knows no
patients beyond the reference it is handed, and raises only the errors below. Logging each
call, timeouts, the circuit breaker and the fallback to request mode are the caller's
(`scheduling.connectors.runtime`, `scheduling.services.connectors`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# --- Errors -----------------------------------------------------------------------------------


class ConnectorError(Exception):
    """The external system could not do it. Messages never hold personal data; the class name
    is what the call log keeps."""


class ConnectorUnavailable(ConnectorError):
    """Unreachable, too slow, or answering with a server error: nothing is known to have
    changed there. Counts against the circuit breaker."""


class ConnectorTimeout(ConnectorUnavailable):
    """No answer within the connector's timeout."""


class BadPayload(ConnectorUnavailable):
    """The system answered with something that is not what its protocol promises."""


class SlotGone(ConnectorError):
    """The slot is not free there any more (taken, or withdrawn). A business answer, not a
    fault: it does not count against the circuit breaker."""


class BookingRefused(ConnectorError):
    """The system refused the booking by one of its rules (a 422 or a 403 there); `detail` is
    its own explanation, shown to staff only. Not a fault of the system."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail[:300]
        super().__init__(self.detail)


class ReadOnly(ConnectorError):
    """This system cannot take bookings (a busy-time feed): staff confirm them instead."""


class NotConfigured(ConnectorError):
    """The connector's settings do not say how to reach this doctor or service."""


# --- Values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotQuery:
    """Free time wanted: one service (its code), optionally one doctor, between two instants."""

    service_code: str
    start: datetime.datetime  # aware
    end: datetime.datetime  # aware, exclusive
    doctor_public_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ExternalSlot:
    """A free time as the external system offers it, tied to our doctor and service."""

    external_id: str  # the system's slot id; "" where it has none (busy-time feeds)
    doctor_public_id: uuid.UUID
    service_code: str
    start: datetime.datetime  # aware, UTC
    end: datetime.datetime  # aware, UTC


@dataclass(frozen=True)
class BookingOrder:
    """What to book: the slot, and whom for, by the network-wide patient id only."""

    slot: ExternalSlot
    patient_public_id: uuid.UUID
    comment: str = ""


@dataclass(frozen=True)
class ExternalAppointment:
    """A visit as the external system states it after booking or moving it."""

    external_id: str
    start: datetime.datetime
    end: datetime.datetime
    status: str  # FHIR appointment status words: booked, cancelled, ...


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""  # safe to show to the network admin: never personal data


@dataclass(frozen=True)
class ConnectorSettings:
    """What an adapter is built from (the clinic's `ClinicConnector` row, decrypted)."""

    base_url: str
    secret: str = ""
    timeout: float = 3.0
    options: dict[str, Any] = field(default_factory=dict)
    clinic_timezone: str = "UTC"
    clinic_id: int | None = None


class Connector(Protocol):
    """An external schedule system."""

    kind: str
    can_book: bool

    def free_slots(self, query: SlotQuery) -> list[ExternalSlot]: ...

    def verify(self, slot: ExternalSlot) -> ExternalSlot:
        """The slot as the system offers it now; `SlotGone` if it does not."""
        ...

    def book(self, order: BookingOrder) -> ExternalAppointment:
        """Book the slot; `SlotGone` if someone took it first, `ReadOnly` if impossible."""
        ...

    def cancel(self, external_id: str) -> None: ...

    def reschedule(self, external_id: str, order: BookingOrder) -> ExternalAppointment: ...

    def health(self) -> Health: ...


# --- Registry ---------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[[ConnectorSettings], Connector]] = {}


def register(kind: str) -> Callable[[type], type]:
    """Class decorator: `kind` (a `ConnectorKind` value) is built by this class."""

    def decorate(cls: type) -> type:
        _REGISTRY[kind] = cls
        return cls

    return decorate


def build(kind: str, settings: ConnectorSettings) -> Connector:
    """The adapter for `kind`; `LookupError` for a kind no adapter registered."""
    return _REGISTRY[kind](settings)


def registered_kinds() -> frozenset[str]:
    return frozenset(_REGISTRY)
