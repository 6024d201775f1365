"""The one call event every provider is normalised to, and how an adapter refuses a request.

An adapter reads a request's raw parts (body, form fields, headers), checks its signature
with the account's secret and returns `CallEvent`s; it never touches the database. Freshness
and replays are checked by the caller (`telephony.services.calls.call_event_record`) with the
event's `key`.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telephony.choices import CallDirection, CallState


class WebhookRefused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """Unsigned, wrongly signed, stale or replayed: answered 403. `reason` is logged; it
    never holds anything from the request."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WebhookMalformed(Exception):  # noqa: N818
    """Signed correctly but not an event we can read: answered 400."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CallEvent:
    """One state change of one call, as every provider is normalised (ECOSYSTEM.md)."""

    key: str  # unique per account and event: the replay guard
    call_id: str
    state: CallState
    at: datetime.datetime
    direction: CallDirection = CallDirection.INBOUND
    from_number: str = ""
    to_number: str = ""
    extension: str = ""
    recording_url: str = ""
    # Mango: the leg this event is about (one call has a leg per ringing extension).
    leg_id: str = ""
    # When the signed content says it was sent: refused when outside the freshness window.
    signed_at: datetime.datetime | None = None
    # Zadarma signs only the call's start, in the PBX's local time: refused when the call
    # would be older than the longest call we accept (`TELEPHONY_MAX_CALL_HOURS`).
    call_start_local: datetime.datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter may read of an HTTP request."""

    body: bytes
    form: Mapping[str, str]
    headers: Mapping[str, str]
    received_at: datetime.datetime


def same_digest(given: str, expected: str) -> bool:
    """Constant-time comparison of two signatures as text."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def text_field(data: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise WebhookMalformed(f"missing {name}")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookMalformed(f"{name} is not text")
    text = str(value)
    if len(text) > 200:
        raise WebhookMalformed(f"{name} is too long")
    if "\x00" in text:
        # PostgreSQL refuses NUL in text: a 400 here rather than a 500 at the insert.
        raise WebhookMalformed(f"{name} holds a NUL")
    return text


def unix_time(value: Any, name: str) -> datetime.datetime:
    try:
        seconds = int(value)
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise WebhookMalformed(f"{name} is not a unix time") from exc
