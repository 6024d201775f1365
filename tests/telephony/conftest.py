"""A generic-webhook account with clinic A's reception line (registrar A at extension 101),
and helpers that sign and post events as a provider would."""

import json
import time
import uuid

import pytest
from django.test import Client

from telephony.models import LineAnswerer, TelephonyAccount, TelephonyLine
from telephony.providers import generic

GENERIC_SECRET = "generic-secret"
CLINIC_A_NUMBER = "+73952000000"
CALLER = "+79145551234"


@pytest.fixture
def webhook_client():
    # CSRF checks on, as in production: the webhooks must be exempt by themselves.
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


@pytest.fixture
def generic_account(db):
    return TelephonyAccount.objects.create(
        name="Asterisk bridge", provider="generic", secret=GENERIC_SECRET
    )


@pytest.fixture
def line_a(generic_account, clinic_a, registrar_a):
    line = TelephonyLine.objects.create(
        account=generic_account, clinic=clinic_a, name="Reception", number=CLINIC_A_NUMBER
    )
    LineAnswerer.objects.create(line=line, user=registrar_a, extension="101")
    return line


def generic_event(call_id: str, state: str, **fields) -> dict:
    return {
        "event_id": fields.pop("event_id", str(uuid.uuid4())),
        "call_id": call_id,
        "state": state,
        "from": fields.pop("caller", CALLER),
        "to": fields.pop("to", CLINIC_A_NUMBER),
        **fields,
    }


def post_generic(client, account, payload, *, secret=GENERIC_SECRET, timestamp=None, headers=None):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = {
        generic.TIMESTAMP_HEADER: stamp,
        generic.SIGNATURE_HEADER: generic.sign(secret, stamp, body),
    }
    return client.post(
        f"/telephony/generic/{account.public_id}/events/",
        data=body,
        content_type="application/json",
        headers=signed if headers is None else headers,
    )
