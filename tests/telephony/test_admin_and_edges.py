"""The admin keeps secrets write-only; the edges of event handling: numbers in provider
spellings, answers without a ring, ISO times, recordings, oversized bodies."""

import datetime
import json
import time

import pytest
from django.db import connection

from telephony.models import Call, TelephonyAccount, TelephonyLine
from telephony.services.calls import caller_e164, line_for
from tests.conftest import client_for
from tests.telephony.conftest import generic_event, post_generic

pytestmark = pytest.mark.django_db


def test_the_admin_takes_a_secret_and_never_shows_it_back(network_admin):
    client = client_for(network_admin)
    response = client.post(
        "/admin/telephony/telephonyaccount/add/",
        {
            "name": "Mango",
            "provider": "mango",
            "api_key": "key",
            "secret": "salt-never-shown",
            "is_active": "on",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = TelephonyAccount.objects.get()
    assert account.secret == "salt-never-shown"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {TelephonyAccount._meta.db_table}")  # noqa: S608
        assert "salt-never-shown" not in cursor.fetchone()[0]
    page = client.get(f"/admin/telephony/telephonyaccount/{account.pk}/change/")
    assert "salt-never-shown" not in page.content.decode()
    # Saved again with the field left empty: the secret stays.
    client.post(
        f"/admin/telephony/telephonyaccount/{account.pk}/change/",
        {
            "name": "Mango office",
            "provider": "mango",
            "api_key": "key",
            "secret": "",
            "is_active": "on",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    account.refresh_from_db()
    assert account.name == "Mango office" and account.secret == "salt-never-shown"


def test_a_new_account_needs_a_secret(network_admin):
    response = client_for(network_admin).post(
        "/admin/telephony/telephonyaccount/add/",
        {
            "name": "X",
            "provider": "generic",
            "secret": "",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not TelephonyAccount.objects.exists()


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("79145551234", "+79145551234"),
        ("+79145551234", "+79145551234"),
        ("8 (914) 555-12-34", "+79145551234"),
        ("", ""),
        ("anonymous", ""),
        ("12", ""),
    ],
)
def test_provider_spellings_of_a_number(raw, e164):
    assert caller_e164(raw) == e164


def test_lines_are_told_apart_by_the_number_called(generic_account, line_a, clinic_b):
    arbat = TelephonyLine.objects.create(
        account=generic_account, clinic=clinic_b, name="Arbat", number="74950000000"
    )
    assert line_for(generic_account, "+7 495 000-00-00") == arbat
    assert line_for(generic_account, "73952000000") == line_a
    assert line_for(generic_account, "") is None


def test_an_answer_of_a_call_never_seen_ringing_is_not_kept(
    webhook_client, generic_account, line_a
):
    response = post_generic(webhook_client, generic_account, generic_event("c-9", "answered"))
    assert response.status_code == 200
    assert not Call.objects.exists()


def test_iso_times_and_recordings_are_kept(webhook_client, generic_account, line_a):
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    post_generic(
        webhook_client,
        generic_account,
        generic_event("c-1", "ringing", time=started.isoformat()),
    )
    post_generic(
        webhook_client,
        generic_account,
        generic_event("c-1", "ended", recording_url="https://pbx.example/rec/1.mp3"),
    )
    call = Call.objects.get()
    assert call.started_at == started
    assert call.recording_url == "https://pbx.example/rec/1.mp3"
    naive = generic_event("c-2", "ringing", time="2026-12-04T10:00:00")
    assert post_generic(webhook_client, generic_account, naive).status_code == 400


def test_an_oversized_body_is_a_400(webhook_client, generic_account, line_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = generic_event("c-1", "ringing", padding="x" * 2000)
    assert post_generic(webhook_client, generic_account, payload).status_code == 400


def test_zadarma_echo_of_an_unknown_account_is_a_404(webhook_client):
    response = webhook_client.get(
        "/telephony/zadarma/00000000-0000-4000-8000-000000000000/?zd_echo=abc"
    )
    assert response.status_code == 404


def test_only_post_reaches_the_generic_webhook(webhook_client, generic_account):
    assert (
        webhook_client.get(f"/telephony/generic/{generic_account.public_id}/events/").status_code
        == 405
    )
    body = json.dumps({}).encode()
    stamp = str(int(time.time()))
    assert (
        webhook_client.put(
            f"/telephony/generic/{generic_account.public_id}/events/",
            data=body,
            headers={"X-Medfront-Timestamp": stamp},
        ).status_code
        == 405
    )


def test_outgoing_calls_are_not_kept(webhook_client, generic_account, line_a):
    event = generic_event("out-1", "ringing", direction="out")
    assert post_generic(webhook_client, generic_account, event).status_code == 200
    assert not Call.objects.exists()
