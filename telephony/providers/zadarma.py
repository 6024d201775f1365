"""Zadarma PBX call notifications (NOTIFY_START, NOTIFY_ANSWER, NOTIFY_END...).

Zadarma posts form fields and signs each notification in the `Signature` header with
`base64(hmac_sha1_hex(<fields>, api_secret))`: their reference code (PHP) base64-encodes the
*hex* digest `hash_hmac('sha1', ...)` returns. The fields signed, concatenated, per event:

- NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_END: caller_id + called_did + call_start
- NOTIFY_ANSWER: caller_id + destination + call_start

Setting the address up, Zadarma checks it with a GET carrying `zd_echo`, which must be
answered with its value.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac

from telephony.choices import CallState
from telephony.providers.base import (
    CallEvent,
    WebhookMalformed,
    WebhookRefused,
    WebhookRequest,
    same_digest,
    text_field,
)

SIGNATURE_HEADER = "Signature"
SIGNED_FIELDS = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
}
STATES = {
    "NOTIFY_START": CallState.RINGING,
    "NOTIFY_ANSWER": CallState.ANSWERED,
    "NOTIFY_END": CallState.ENDED,
}


def sign(secret: str, text: str) -> str:
    hex_digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def parse(request: WebhookRequest, *, secret: str) -> list[CallEvent]:
    form = request.form
    event = form.get("event", "")
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not signature:
        raise WebhookRefused("unsigned")
    fields = SIGNED_FIELDS.get(event)
    if fields is None:
        # Outgoing calls, recordings, IVR...: nothing we keep; not trusted either.
        return []
    signed_text = "".join(form.get(name, "") for name in fields)
    if not same_digest(signature, sign(secret, signed_text)):
        raise WebhookRefused("bad signature")
    state = STATES.get(event)
    if state is None:
        return []
    call_start = _local_time(text_field(form, "call_start"))
    pbx_call_id = text_field(form, "pbx_call_id")
    disposition = form.get("disposition", "")
    return [
        CallEvent(
            key=f"zadarma:{pbx_call_id}:{event}",
            call_id=pbx_call_id,
            state=state,
            at=request.received_at,
            from_number=text_field(form, "caller_id", required=False),
            to_number=text_field(form, "called_did", required=False),
            extension=text_field(form, "internal", required=False),
            call_start_local=call_start,
            extra={"answered": disposition == "answered"} if state == CallState.ENDED else {},
        )
    ]


def _local_time(value: str) -> datetime.datetime:
    try:
        # A wall-clock time of the PBX: made aware by the service in the line's clinic zone.
        return datetime.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
    except ValueError as exc:
        raise WebhookMalformed("call_start is not YYYY-MM-DD HH:MM:SS") from exc
