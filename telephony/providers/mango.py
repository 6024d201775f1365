"""Mango Office VPBX API events (realtime notifications of the virtual PBX).

Mango posts form fields to `<our address>/events/<kind>`: `vpbx_api_key`, `sign` and `json`,
where `sign = sha256(vpbx_api_key + json + api_salt)` in hex. `events/call` tells each leg's
state (`Appeared`, `Connected`, `OnHold`, `Disconnected`) with the whole call's `entry_id`;
`events/summary` closes the call with `entry_result` (1 answered, 0 missed). Other kinds
(recordings, DTMF...) are verified and acknowledged without effect.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

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

STATES = {
    "Appeared": CallState.RINGING,
    "Connected": CallState.ANSWERED,
    "Disconnected": CallState.ENDED,
}


def sign(api_key: str, json_text: str, api_salt: str) -> str:
    return hashlib.sha256((api_key + json_text + api_salt).encode()).hexdigest()


def parse(request: WebhookRequest, *, kind: str, api_key: str, secret: str) -> list[CallEvent]:
    given_key = request.form.get("vpbx_api_key", "")
    given_sign = request.form.get("sign", "")
    json_text = request.form.get("json", "")
    if not given_key or not given_sign:
        raise WebhookRefused("unsigned")
    if not api_key or not same_digest(given_key, api_key):
        raise WebhookRefused("unknown vpbx_api_key")
    if not same_digest(given_sign.lower(), sign(api_key, json_text, secret)):
        raise WebhookRefused("bad signature")
    try:
        data = json.loads(json_text)
    except ValueError as exc:
        raise WebhookMalformed("json is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookMalformed("json is not an object")
    if kind == "call":
        return _call_event(data)
    if kind == "summary":
        return [_summary_event(data)]
    return []


def _party(data: dict[str, Any], name: str) -> dict[str, Any]:
    party = data.get(name) or {}
    if not isinstance(party, dict):
        raise WebhookMalformed(f"{name} is not an object")
    return party


def _call_event(data: dict[str, Any]) -> list[CallEvent]:
    state = STATES.get(text_field(data, "call_state"))
    entry_id = text_field(data, "entry_id")
    leg_id = text_field(data, "call_id")
    seq = text_field(data, "seq")
    at = unix_time(data.get("timestamp"), "timestamp")
    if state is None:  # OnHold and future states change nothing we keep
        return []
    caller, called = _party(data, "from"), _party(data, "to")
    outbound = bool(caller.get("extension"))
    return [
        CallEvent(
            key=f"mango:call:{entry_id}:{leg_id}:{seq}",
            call_id=entry_id,
            leg_id=leg_id,
            state=state,
            at=at,
            direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
            from_number=text_field(caller, "number", required=False),
            to_number=text_field(called, "line_number", required=False)
            or text_field(called, "number", required=False),
            extension=text_field(called, "extension", required=False),
            signed_at=at,
        )
    ]


def _summary_event(data: dict[str, Any]) -> CallEvent:
    entry_id = text_field(data, "entry_id")
    ended = unix_time(data.get("end_time"), "end_time")
    created = unix_time(data.get("create_time"), "create_time")
    talk = data.get("talk_time")
    answered = str(data.get("entry_result")) == "1"
    caller, called = _party(data, "from"), _party(data, "to")
    return CallEvent(
        key=f"mango:summary:{entry_id}",
        call_id=entry_id,
        state=CallState.ENDED,
        at=ended,
        direction=CallDirection.OUTBOUND
        if str(data.get("call_direction")) == "2"
        else CallDirection.INBOUND,
        from_number=text_field(caller, "number", required=False),
        to_number=text_field(data, "line_number", required=False)
        or text_field(called, "number", required=False),
        extension=text_field(called, "extension", required=False),
        signed_at=ended,
        extra={
            "summary": True,
            "started_at": created,
            "answered_at": unix_time(talk, "talk_time") if answered and talk else None,
            "answered": answered,
        },
    )
