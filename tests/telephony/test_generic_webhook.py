"""The generic JSON call event: its signature, freshness and replay guard, and what a call's
events store (answer time, missed calls and the callback queue)."""

import json
import logging
import time

import pytest
from django.db import connection

from portal.crypto import blind_index
from portal.models.patients import BIDX_PHONE
from telephony.models import Call, CallbackRequest, CallEventRecord
from telephony.providers import generic
from tests.factories import PatientFactory
from tests.telephony.conftest import CALLER, generic_event, post_generic

pytestmark = pytest.mark.django_db


def test_the_signature_is_hmac_sha256_over_timestamp_and_raw_body():
    # Computed independently: printf '%s' '1764876000{"event_id":"e1"}' |
    #   openssl dgst -sha256 -hmac generic-secret
    expected = "9a24f86609c5d9aae6d2aef97eebd7d40b8759fb4f6c503acbc9f16ba386dee0"
    assert generic.sign("generic-secret", "1764876000", b'{"event_id":"e1"}') == (
        f"sha256={expected}"
    )


def test_ring_answer_end_stores_the_answer_time_and_who_answered(
    webhook_client, generic_account, line_a, registrar_a
):
    now = int(time.time())
    for state, at, extra in (
        ("ringing", now - 30, {}),
        ("answered", now - 18, {"extension": "101"}),
        ("ended", now - 2, {}),
    ):
        response = post_generic(
            webhook_client, generic_account, generic_event("c-1", state, time=at, **extra)
        )
        assert response.status_code == 200, response.content
    call = Call.objects.get()
    assert call.state == "ended" and not call.missed
    assert call.answer_seconds == 12
    assert call.answered_by == registrar_a and call.extension == "101"
    assert call.line == line_a
    assert not CallbackRequest.objects.exists()
    assert CallEventRecord.objects.filter(call=call).count() == 3


def test_a_call_that_ends_unanswered_is_missed_and_queued_for_a_callback(
    webhook_client, generic_account, line_a, settings
):
    settings.TELEPHONY_CALLBACK_DUE_MINUTES = 15
    post_generic(webhook_client, generic_account, generic_event("c-1", "ringing"))
    post_generic(webhook_client, generic_account, generic_event("c-1", "ended"))
    call = Call.objects.get()
    assert call.missed and call.answered_at is None
    callback = CallbackRequest.objects.get()
    assert callback.call == call and callback.clinic == line_a.clinic
    assert (callback.due_at - call.ended_at).total_seconds() == 15 * 60
    # The same number missed again: one request, two missed calls.
    post_generic(webhook_client, generic_account, generic_event("c-2", "ringing"))
    post_generic(webhook_client, generic_account, generic_event("c-2", "ended"))
    callback.refresh_from_db()
    assert CallbackRequest.objects.count() == 1
    assert callback.missed_calls == 2 and callback.call.provider_call_id == "c-2"
    # They get through next time: the request is done.
    for state in ("ringing", "answered", "ended"):
        post_generic(webhook_client, generic_account, generic_event("c-3", state))
    callback.refresh_from_db()
    assert callback.done_at is not None
    assert callback.closed_by_call == Call.objects.get(provider_call_id="c-3")


def test_events_after_the_end_change_nothing(webhook_client, generic_account, line_a):
    post_generic(webhook_client, generic_account, generic_event("c-1", "ringing"))
    post_generic(webhook_client, generic_account, generic_event("c-1", "ended"))
    post_generic(webhook_client, generic_account, generic_event("c-1", "answered"))
    call = Call.objects.get()
    assert call.state == "ended" and call.missed and call.answered_at is None


def test_the_caller_is_matched_to_the_one_patient_with_that_number(
    webhook_client, generic_account, line_a
):
    patient = PatientFactory(phone=CALLER)
    post_generic(
        webhook_client, generic_account, generic_event("c-1", "ringing", caller="8 914 555-12-34")
    )
    call = Call.objects.get()
    assert call.patient == patient
    assert call.from_number == CALLER
    assert call.from_bidx == blind_index(BIDX_PHONE, CALLER) == patient.phone_bidx


def test_a_number_two_patients_share_matches_neither_on_the_call(
    webhook_client, generic_account, line_a
):
    PatientFactory(phone=CALLER)
    PatientFactory(phone=CALLER)
    post_generic(webhook_client, generic_account, generic_event("c-1", "ringing"))
    assert Call.objects.get().patient is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {generic.TIMESTAMP_HEADER: "1764876000"},
        {generic.SIGNATURE_HEADER: "sha256=00"},
        {generic.TIMESTAMP_HEADER: "soon", generic.SIGNATURE_HEADER: "sha256=00"},
    ],
    ids=["unsigned", "no-signature", "no-timestamp", "bad-timestamp"],
)
def test_unsigned_events_are_refused(webhook_client, generic_account, line_a, headers):
    response = post_generic(
        webhook_client, generic_account, generic_event("c-1", "ringing"), headers=headers
    )
    assert response.status_code == 403
    assert not Call.objects.exists() and not CallEventRecord.objects.exists()


def test_a_wrong_signature_is_refused_and_logged_without_the_number(
    webhook_client, generic_account, line_a, caplog
):
    caplog.set_level(logging.INFO)
    response = post_generic(
        webhook_client, generic_account, generic_event("c-1", "ringing"), secret="guessed"
    )
    assert response.status_code == 403
    assert not Call.objects.exists()
    assert "bad signature" in caplog.text
    assert str(generic_account.public_id) in caplog.text
    assert "5551234" not in caplog.text and "555-12-34" not in caplog.text


def test_a_body_changed_after_signing_is_refused(webhook_client, generic_account, line_a):
    body = json.dumps(generic_event("c-1", "ringing")).encode()
    stamp = str(int(time.time()))
    response = webhook_client.post(
        f"/telephony/generic/{generic_account.public_id}/events/",
        data=body.replace(b"ringing", b"ended"),
        content_type="application/json",
        headers={
            generic.TIMESTAMP_HEADER: stamp,
            generic.SIGNATURE_HEADER: generic.sign("generic-secret", stamp, body),
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_stale_or_future_timestamp_is_refused(webhook_client, generic_account, line_a, age):
    response = post_generic(
        webhook_client,
        generic_account,
        generic_event("c-1", "ringing"),
        timestamp=int(time.time()) - age,
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_a_replayed_event_is_refused_and_changes_nothing(webhook_client, generic_account, line_a):
    ring = generic_event("c-1", "ringing")
    assert post_generic(webhook_client, generic_account, ring).status_code == 200
    end = generic_event("c-1", "ended", event_id="end-1")
    assert post_generic(webhook_client, generic_account, end).status_code == 200
    # The same end again, freshly signed: its event id was seen.
    assert post_generic(webhook_client, generic_account, end).status_code == 403
    assert CallbackRequest.objects.get().missed_calls == 1
    assert CallEventRecord.objects.count() == 2


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"call_id": "c", "state": "ringing", "from": "+79145551234"}).encode(),
        json.dumps({"event_id": "e", "call_id": "c", "state": "flying"}).encode(),
        json.dumps({"event_id": "e", "call_id": "c", "state": "ringing"}).encode(),
        json.dumps(
            {"event_id": "e", "call_id": {"x": 1}, "state": "ringing", "from": "1"}
        ).encode(),
        json.dumps({"event_id": "e\x00", "call_id": "c", "state": "ended"}).encode(),
        json.dumps(
            {"event_id": "e", "call_id": "c", "state": "ended", "time": "yesterday"}
        ).encode(),
        json.dumps(
            {"event_id": "e", "call_id": "c", "state": "ended", "recording_url": "ftp://x"}
        ).encode(),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-event-id",
        "bad-state",
        "ring-without-number",
        "id-not-text",
        "nul",
        "bad-time",
        "bad-recording",
    ],
)
def test_malformed_signed_events_are_a_400(webhook_client, generic_account, line_a, payload):
    stamp = str(int(time.time()))
    response = webhook_client.post(
        f"/telephony/generic/{generic_account.public_id}/events/",
        data=payload,
        content_type="application/json",
        headers={
            generic.TIMESTAMP_HEADER: stamp,
            generic.SIGNATURE_HEADER: generic.sign("generic-secret", stamp, payload),
        },
    )
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_an_unknown_or_inactive_account_is_a_404(webhook_client, generic_account, line_a):
    generic_account.is_active = False
    generic_account.save()
    response = post_generic(webhook_client, generic_account, generic_event("c-1", "ringing"))
    assert response.status_code == 404


def test_a_call_to_a_number_of_no_line_is_acknowledged_and_not_kept(
    webhook_client, generic_account, line_a, clinic_b
):
    from telephony.models import TelephonyLine

    TelephonyLine.objects.create(
        account=generic_account, clinic=clinic_b, name="Arbat", number="+74950000000"
    )
    response = post_generic(
        webhook_client, generic_account, generic_event("c-1", "ringing", to="+78000000000")
    )
    assert response.status_code == 200
    assert not Call.objects.exists()


def test_the_number_is_stored_encrypted_and_never_logged(
    webhook_client, generic_account, line_a, caplog
):
    caplog.set_level(logging.DEBUG)
    PatientFactory(phone=CALLER)
    post_generic(webhook_client, generic_account, generic_event("c-1", "ringing"))
    post_generic(webhook_client, generic_account, generic_event("c-1", "ended"))
    digits = "9145551234"
    tables = [Call._meta.db_table, CallEventRecord._meta.db_table, CallbackRequest._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names from the models
            rows = cursor.fetchall()
            assert rows, table
            assert digits not in repr(rows), table
    assert digits not in caplog.text


def test_a_ring_costs_the_same_queries_however_many_calls_and_patients(
    webhook_client, generic_account, line_a
):
    from django.test.utils import CaptureQueriesContext

    def ring_queries(call_id):
        with CaptureQueriesContext(connection) as ctx:
            response = post_generic(
                webhook_client, generic_account, generic_event(call_id, "ringing")
            )
        assert response.status_code == 200
        return len(ctx.captured_queries)

    PatientFactory(phone=CALLER)
    before = ring_queries("c-0")
    for index in range(1, 15):
        PatientFactory()
        post_generic(webhook_client, generic_account, generic_event(f"c-{index}", "ringing"))
        post_generic(webhook_client, generic_account, generic_event(f"c-{index}", "ended"))
    assert ring_queries("c-new") == before
    assert before <= 12
