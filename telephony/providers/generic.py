"""Medfront's own call event: one JSON object per state change, signed with the account's
shared secret. UIS, Beeline, Sipuni or an Asterisk bridge post it (README, "Telephony").

    POST /telephony/generic/<account>/events/
    X-Medfront-Timestamp: 1764876000            (unix seconds, when the event was sent)
    X-Medfront-Signature: sha256=<hex>          (HMAC-SHA256 over timestamp + raw body)

    {"event_id": "…", "call_id": "…", "state": "ringing" | "answered" | "ended",
     "direction": "in", "from": "+79145551234", "to": "+73952000000",
     "extension": "101", "time": 1764876000, "recording_url": ""}
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json

from telephony.choices import CallDirection, CallState
from telephony.providers.base import (
    CallEvent,
    WebhookMalformed,
    WebhookRefused,
    WebhookRequest,
    same_digest,
    text_field,
    unix_time,
)

TIMESTAMP_HEADER = "X-Medfront-Timestamp"
SIGNATURE_HEADER = "X-Medfront-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (also for bridges/tests)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def parse(request: WebhookRequest, *, secret: str) -> list[CallEvent]:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise WebhookRefused("unsigned")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRefused("bad timestamp")
    if not same_digest(signature, sign(secret, timestamp, request.body)):
        raise WebhookRefused("bad signature")
    signed_at = unix_time(timestamp, "timestamp")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookMalformed("not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookMalformed("not a JSON object")
    try:
        state = CallState(text_field(data, "state"))
        direction = CallDirection(text_field(data, "direction", required=False) or "in")
    except ValueError as exc:
        raise WebhookMalformed("unknown state or direction") from exc
    at = _event_time(data.get("time"), default=signed_at)
    return [
        CallEvent(
            key=f"generic:{text_field(data, 'event_id')}",
            call_id=text_field(data, "call_id"),
            state=state,
            at=at,
            direction=direction,
            from_number=text_field(data, "from", required=state == CallState.RINGING),
            to_number=text_field(data, "to", required=False),
            extension=text_field(data, "extension", required=False),
            recording_url=_url(data.get("recording_url")),
            signed_at=signed_at,
        )
    ]


def _event_time(value, *, default: datetime.datetime) -> datetime.datetime:
    if value in (None, ""):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return unix_time(value, "time")
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError as exc:
            raise WebhookMalformed("time is not ISO 8601") from exc
        if moment.tzinfo is None:
            raise WebhookMalformed("time has no offset")
        return moment
    raise WebhookMalformed("time is neither unix seconds nor ISO 8601")


def _url(value) -> str:
    if value in (None, ""):
        return ""
    if (
        not isinstance(value, str)
        or len(value) > 1000
        or not value.startswith(("https://", "http://"))
    ):
        raise WebhookMalformed("recording_url is not an http(s) address")
    return value
