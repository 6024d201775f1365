#!/usr/bin/env python3
"""Asterisk → Medfront: an AGI script that posts Medfront's generic call event.

Called from the dialplan (README, "Telephony (caller ID)"):

    AGI(medfront_call_agi.py,ringing)                     caller's channel, on arrival
    AGI(medfront_call_agi.py,answered,<call id>,<ext>)    callee's channel (Dial's U() option)
    AGI(medfront_call_agi.py,ended)                       caller's channel, `h` extension

Configuration from the environment of Asterisk (or a file named by MEDFRONT_WEBHOOK_ENV):
MEDFRONT_WEBHOOK_URL (the account's `/telephony/generic/<account>/events/` address) and
MEDFRONT_WEBHOOK_SECRET (its shared secret). Standard library only; it never holds up the
call: the post times out after two seconds and failures go to Asterisk's log, without the
caller's number.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def read_agi_environment(stream) -> dict[str, str]:
    """The `agi_*` lines Asterisk writes first, up to the blank line."""
    values = {}
    for line in stream:
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(":")
        values[name.strip()] = value.strip()
    return values


def load_config() -> tuple[str, str]:
    env_file = os.environ.get("MEDFRONT_WEBHOOK_ENV")
    values = dict(os.environ)
    if env_file:
        with open(env_file, encoding="utf-8") as handle:
            for line in handle:
                name, _, value = line.strip().partition("=")
                if name and not name.startswith("#"):
                    values[name] = value
    return values["MEDFRONT_WEBHOOK_URL"], values["MEDFRONT_WEBHOOK_SECRET"]


def build_event(state: str, agi: dict[str, str], args: list[str]) -> dict:
    event = {"event_id": str(uuid.uuid4()), "state": state, "time": int(time.time())}
    if state == "answered":
        event["call_id"] = args[0] if args else agi.get("agi_uniqueid", "")
        event["extension"] = args[1] if len(args) > 1 else ""
    else:
        event["call_id"] = agi.get("agi_uniqueid", "")
    if state == "ringing":
        event["from"] = agi.get("agi_callerid", "")
        event["to"] = agi.get("agi_dnid") or agi.get("agi_extension", "")
    return event


def post(url: str, secret: str, event: dict) -> int:
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 - the configured https address
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Medfront-Timestamp": stamp,
            "X-Medfront-Signature": f"sha256={signature}",
        },
    )
    with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
        return response.status


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("ringing", "answered", "ended"):
        sys.stderr.write("usage: medfront_call_agi.py ringing|answered|ended [call id] [ext]\n")
        return 2
    agi = read_agi_environment(sys.stdin)
    try:
        url, secret = load_config()
        status = post(url, secret, build_event(argv[0], agi, argv[1:]))
    except (OSError, KeyError, urllib.error.URLError) as exc:
        sys.stderr.write(f"medfront: call event not sent ({type(exc).__name__})\n")
        return 0
    if status != 200:
        sys.stderr.write(f"medfront: call event answered {status}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
