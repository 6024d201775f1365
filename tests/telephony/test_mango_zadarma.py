"""Mango Office VPBX events and Zadarma notifications, posted as the providers post them."""

import base64
import hashlib
import hmac
import json
import time
import zoneinfo
from datetime import datetime, timedelta

import pytest

from telephony.models import Call, CallbackRequest, LineAnswerer, TelephonyAccount, TelephonyLine
from telephony.providers import mango, zadarma
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

MANGO_KEY = "mango-key"
MANGO_SALT = "mango-salt"
ZADARMA_SECRET = "zd-secret"


# --- Mango Office ------------------------------------------------------------------------------


@pytest.fixture
def mango_account(clinic_a, registrar_a):
    account = TelephonyAccount.objects.create(
        name="Mango", provider="mango", api_key=MANGO_KEY, secret=MANGO_SALT
    )
    line = TelephonyLine.objects.create(
        account=account, clinic=clinic_a, name="Reception", number="73952000000"
    )
    LineAnswerer.objects.create(line=line, user=registrar_a, extension="101")
    return account


def mango_post(client, account, kind, data, *, key=MANGO_KEY, salt=MANGO_SALT, sign=None):
    text = json.dumps(data)
    return client.post(
        f"/telephony/mango/{account.public_id}/events/{kind}",
        data={
            "vpbx_api_key": key,
            "sign": sign if sign is not None else mango.sign(key, text, salt),
            "json": text,
        },
    )


def mango_call(state, *, leg="leg-1", seq=1, extension="", timestamp=None):
    return {
        "entry_id": "entry-1",
        "call_id": leg,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
        "seq": seq,
        "call_state": state,
        "location": "abonent" if extension else "ivr",
        "from": {"number": "79145551234"},
        "to": {"line_number": "73952000000", "extension": extension},
    }


def test_mango_sign_is_sha256_of_key_json_salt():
    # printf '%s' 'mango-key<json>mango-salt' | sha256sum
    text = (
        '{"entry_id":"MToxMDA1","call_id":"MToxMDA1OjE=","timestamp":1764876000,"seq":1,'
        '"call_state":"Appeared"}'
    )
    assert mango.sign(MANGO_KEY, text, MANGO_SALT) == (
        "c5a5115288aa77f0480b9ca00f1478fc043620ddde60f69e00bfbb05a1fa847f"
    )


def test_mango_appeared_connected_disconnected(webhook_client, mango_account, registrar_a):
    patient = PatientFactory(phone="+79145551234")
    now = int(time.time())
    assert (
        mango_post(
            webhook_client, mango_account, "call", mango_call("Appeared", timestamp=now - 20)
        ).status_code
        == 200
    )
    # The extension's own leg rings, is answered, then the caller hangs up.
    for state, seq, at in (("Appeared", 1, now - 19), ("Connected", 2, now - 10)):
        response = mango_post(
            webhook_client,
            mango_account,
            "call",
            mango_call(state, leg="leg-2", seq=seq, extension="101", timestamp=at),
        )
        assert response.status_code == 200
    mango_post(
        webhook_client, mango_account, "call", mango_call("Disconnected", seq=2, timestamp=now)
    )
    call = Call.objects.get()
    assert call.patient == patient
    assert call.answer_seconds == 10 and call.answered_by == registrar_a
    assert call.state == "ended" and not call.missed


def test_mango_an_extension_that_stops_ringing_does_not_end_the_call(webhook_client, mango_account):
    mango_post(webhook_client, mango_account, "call", mango_call("Appeared"))
    mango_post(
        webhook_client,
        mango_account,
        "call",
        mango_call("Disconnected", leg="leg-2", seq=2, extension="102"),
    )
    assert Call.objects.get().state == "ringing"
    mango_post(webhook_client, mango_account, "call", mango_call("Disconnected", seq=2))
    call = Call.objects.get()
    assert call.missed and CallbackRequest.objects.get().call == call


def test_mango_summary_ends_a_call_and_says_whether_it_was_answered(webhook_client, mango_account):
    now = int(time.time())
    summary = {
        "entry_id": "entry-9",
        "call_direction": 1,
        "from": {"number": "79145551234"},
        "to": {"extension": "101"},
        "line_number": "73952000000",
        "create_time": now - 60,
        "forward_time": now - 58,
        "talk_time": now - 50,
        "end_time": now,
        "entry_result": 1,
    }
    assert mango_post(webhook_client, mango_account, "summary", summary).status_code == 200
    call = Call.objects.get()
    assert call.answer_seconds == 10 and not call.missed and call.state == "ended"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"sign": "0" * 64}, 403),
        ({"key": "someone-else"}, 403),
        ({"sign": ""}, 403),
        ({"salt": "guessed"}, 403),
    ],
    ids=["bad-sign", "other-api-key", "unsigned", "wrong-salt"],
)
def test_mango_refuses_what_it_did_not_sign(webhook_client, mango_account, changes, status):
    response = mango_post(webhook_client, mango_account, "call", mango_call("Appeared"), **changes)
    assert response.status_code == status
    assert not Call.objects.exists()


def test_mango_refuses_stale_and_replayed_events(webhook_client, mango_account):
    stale = mango_call("Appeared", timestamp=int(time.time()) - 600)
    assert mango_post(webhook_client, mango_account, "call", stale).status_code == 403
    event = mango_call("Appeared")
    assert mango_post(webhook_client, mango_account, "call", event).status_code == 200
    assert mango_post(webhook_client, mango_account, "call", event).status_code == 403
    assert Call.objects.count() == 1


def test_mango_malformed_json_is_a_400(webhook_client, mango_account):
    text = "{not json"
    response = webhook_client.post(
        f"/telephony/mango/{mango_account.public_id}/events/call",
        data={
            "vpbx_api_key": MANGO_KEY,
            "sign": mango.sign(MANGO_KEY, text, MANGO_SALT),
            "json": text,
        },
    )
    assert response.status_code == 400


def test_mango_other_event_kinds_are_acknowledged(webhook_client, mango_account):
    response = mango_post(webhook_client, mango_account, "recording", {"entry_id": "x"})
    assert response.status_code == 200
    assert not Call.objects.exists()


# --- Zadarma -----------------------------------------------------------------------------------


@pytest.fixture
def zadarma_account(clinic_a, registrar_a):
    account = TelephonyAccount.objects.create(
        name="Zadarma", provider="zadarma", api_key="zd-key", secret=ZADARMA_SECRET
    )
    line = TelephonyLine.objects.create(
        account=account, clinic=clinic_a, name="Reception", number="+73952000000"
    )
    LineAnswerer.objects.create(line=line, user=registrar_a, extension="101")
    return account


def local_now(clinic, minutes_ago=0):
    moment = datetime.now(zoneinfo.ZoneInfo(clinic.timezone)) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def zadarma_post(client, account, fields, *, secret=ZADARMA_SECRET, signature=None):
    signed = zadarma.SIGNED_FIELDS[fields["event"]]
    text = "".join(fields.get(name, "") for name in signed)
    return client.post(
        f"/telephony/zadarma/{account.public_id}/",
        data=fields,
        headers={"Signature": signature if signature is not None else zadarma.sign(secret, text)},
    )


def test_zadarma_signature_is_base64_of_the_hex_hmac_sha1():
    # printf '%s' '+79145551234+739520000002026-12-04 12:00:00' |
    #   openssl dgst -sha1 -hmac zd-secret -r | cut -d' ' -f1 | tr -d '\n' | base64
    text = "+79145551234" + "+73952000000" + "2026-12-04 12:00:00"
    assert (
        zadarma.sign(ZADARMA_SECRET, text)
        == "NTlhNzdjN2E0YzI5MjZiYmJhNTY3MDNjYWJjOTgyZGViNzA0Zjk2OA=="
    )
    raw = hmac.new(ZADARMA_SECRET.encode(), text.encode(), hashlib.sha1).hexdigest()
    assert base64.b64decode(zadarma.sign(ZADARMA_SECRET, text)).decode() == raw


def test_zadarma_echo_answers_the_address_check(webhook_client, zadarma_account):
    response = webhook_client.get(f"/telephony/zadarma/{zadarma_account.public_id}/?zd_echo=abc123")
    assert response.status_code == 200 and response.content == b"abc123"
    bad = webhook_client.get(f"/telephony/zadarma/{zadarma_account.public_id}/?zd_echo=<script>")
    assert bad.status_code == 400


def test_zadarma_start_answer_end(webhook_client, zadarma_account, clinic_a, registrar_a):
    start = local_now(clinic_a)
    common = {"caller_id": "+79145551234", "call_start": start, "pbx_call_id": "in_1"}
    ring = {**common, "event": "NOTIFY_START", "called_did": "73952000000"}
    answer = {**common, "event": "NOTIFY_ANSWER", "destination": "101", "internal": "101"}
    end = {
        **common,
        "event": "NOTIFY_END",
        "called_did": "73952000000",
        "internal": "101",
        "duration": "42",
        "disposition": "answered",
    }
    for fields in (ring, answer, end):
        assert zadarma_post(webhook_client, zadarma_account, fields).status_code == 200
    call = Call.objects.get()
    assert call.state == "ended" and call.answered_by == registrar_a and not call.missed


def test_zadarma_missed_call_is_queued(webhook_client, zadarma_account, clinic_a):
    common = {"caller_id": "+79145551234", "call_start": local_now(clinic_a), "pbx_call_id": "in_2"}
    zadarma_post(
        webhook_client,
        zadarma_account,
        {**common, "event": "NOTIFY_START", "called_did": "73952000000"},
    )
    zadarma_post(
        webhook_client,
        zadarma_account,
        {**common, "event": "NOTIFY_END", "called_did": "73952000000", "disposition": "cancel"},
    )
    assert Call.objects.get().missed
    assert CallbackRequest.objects.count() == 1


def test_zadarma_refuses_bad_stale_and_replayed_notifications(
    webhook_client, zadarma_account, clinic_a
):
    ring = {
        "event": "NOTIFY_START",
        "caller_id": "+79145551234",
        "called_did": "73952000000",
        "call_start": local_now(clinic_a),
        "pbx_call_id": "in_3",
    }
    assert zadarma_post(webhook_client, zadarma_account, ring, signature="").status_code == 403
    assert zadarma_post(webhook_client, zadarma_account, ring, secret="guess").status_code == 403
    old = {**ring, "pbx_call_id": "in_4", "call_start": local_now(clinic_a, minutes_ago=7 * 60)}
    assert zadarma_post(webhook_client, zadarma_account, old).status_code == 403
    assert zadarma_post(webhook_client, zadarma_account, ring).status_code == 200
    assert zadarma_post(webhook_client, zadarma_account, ring).status_code == 403
    assert Call.objects.count() == 1
    malformed = {**ring, "pbx_call_id": "in_5", "call_start": "yesterday"}
    assert zadarma_post(webhook_client, zadarma_account, malformed).status_code == 400
