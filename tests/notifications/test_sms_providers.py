"""The SMS.ru and Twilio senders against local servers speaking their protocols, and their
status callbacks: SMS.ru's behind a secret address token, Twilio's behind its signature."""

import logging
import urllib.parse

import pytest
from django.test import Client, override_settings

from notifications.dispatch import outbox_dispatch_due
from notifications.models import OutboxMessage
from notifications.senders.twilio import twilio_signature
from notifications.services import outbox_enqueue
from tests.notifications.sms_servers import (
    SMSRU_API_ID,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeSmsRu,
    FakeTwilio,
)

pytestmark = pytest.mark.django_db

PHONE = "+79991234567"
CALLBACK_TOKEN = "cb-token-0123456789abcdef"
STATUS_URL = "https://portal.example.test/notifications/sms/twilio/status/"


@pytest.fixture
def smsru(settings):
    server = FakeSmsRu().start()
    settings.NOTIFICATION_SENDERS = {"sms": "notifications.senders.smsru.SmsRuSender"}
    settings.SMSRU_API_URL = server.url
    settings.SMSRU_API_ID = SMSRU_API_ID
    settings.SMSRU_SENDER_NAME = ""
    settings.SMSRU_TEST = False
    settings.SMSRU_CALLBACK_TOKEN = CALLBACK_TOKEN
    yield server
    server.stop()


@pytest.fixture
def twilio(settings):
    server = FakeTwilio().start()
    settings.NOTIFICATION_SENDERS = {"sms": "notifications.senders.twilio.TwilioSender"}
    settings.TWILIO_API_URL = server.url
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_STATUS_CALLBACK_URL = STATUS_URL
    yield server
    server.stop()


def send_one() -> OutboxMessage:
    message = outbox_enqueue(
        event="test.sms", channel="sms", to=PHONE, context={"text": "Ваш код: 123456"}
    )
    outbox_dispatch_due()
    message.refresh_from_db()
    return message


def assert_no_secrets_logged(caplog, *secrets):
    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PHONE, PHONE.lstrip("+"), *secrets):
        assert secret not in text


# --- SMS.ru ---------------------------------------------------------------------------------


def test_smsru_sends_and_records_its_sms_id(smsru, caplog):
    caplog.set_level(logging.DEBUG)
    message = send_one()
    assert message.status == "sent"
    assert message.provider == "smsru"
    assert message.provider_message_id == "000000-0000001"
    [call] = smsru.requests
    assert call["form"] == {
        "api_id": SMSRU_API_ID,
        "to": "79991234567",
        "msg": "Ваш код: 123456",
        "json": "1",
    }
    assert_no_secrets_logged(caplog, SMSRU_API_ID)


def test_smsru_test_flag_and_sender_name_come_from_settings(smsru, settings):
    settings.SMSRU_TEST = True
    settings.SMSRU_SENDER_NAME = "Medfront"
    assert send_one().status == "sent"
    [call] = smsru.requests
    assert call["form"]["test"] == "1"
    assert call["form"]["from"] == "Medfront"


def test_smsru_refusing_the_number_fails_the_message_at_once(smsru, caplog):
    caplog.set_level(logging.DEBUG)
    smsru.answer = "number_refused"
    message = send_one()
    assert message.status == "failed"
    assert message.attempts == 1
    assert message.last_error.startswith("SMS.ru refused the number: 207")
    assert PHONE.lstrip("+") not in message.last_error  # SMS.ru's text quotes it: not kept
    assert_no_secrets_logged(caplog, SMSRU_API_ID)


def test_smsru_without_balance_retries_later(smsru):
    smsru.answer = "no_balance"
    message = send_one()
    assert message.status == "pending"
    assert message.last_error == "SMS.ru refused the request: 201 insufficient balance"
    assert message.attempts == 1


@pytest.mark.parametrize("answer", ["http_error", "not_json"])
def test_smsru_unreachable_or_garbled_retries_later(smsru, answer):
    smsru.answer = answer
    message = send_one()
    assert message.status == "pending"
    assert message.last_error.startswith("SMS.ru answered")


def test_smsru_wrong_key_retries_with_the_reason(smsru, settings):
    settings.SMSRU_API_ID = "wrong"
    message = send_one()
    assert message.status == "pending"
    assert message.last_error == "SMS.ru refused the request: 200 wrong api_id"


def smsru_callback(client, token, *lines):
    return client.post(
        f"/notifications/sms/smsru/{token}/status/",
        data=urllib.parse.urlencode([("data[]", line) for line in lines]),
        content_type="application/x-www-form-urlencoded",
    )


def test_smsru_status_callback_updates_the_delivery_state_and_answers_100(smsru):
    message = send_one()
    client = Client()
    sms_id = message.provider_message_id
    response = smsru_callback(
        client, CALLBACK_TOKEN, f"sms_status\n{sms_id}\n102\n1700000000", "check\n1\n"
    )
    assert response.status_code == 200
    assert response.content == b"100"
    message.refresh_from_db()
    assert message.delivery_status == "sent"
    smsru_callback(client, CALLBACK_TOKEN, f"sms_status\n{sms_id}\n103\n1700000060")
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    # A late "in transit" report does not undo the delivery.
    smsru_callback(client, CALLBACK_TOKEN, f"sms_status\n{sms_id}\n102\n1700000000")
    message.refresh_from_db()
    assert message.delivery_status == "delivered"


def test_smsru_callback_for_an_unknown_id_is_still_acknowledged(smsru):
    response = smsru_callback(Client(), CALLBACK_TOKEN, "sms_status\n999999-1\n103\n1")
    assert response.content == b"100"


@pytest.mark.parametrize("token", ["wrong-token", CALLBACK_TOKEN[:-1]])
def test_smsru_callback_with_a_wrong_token_is_refused_and_changes_nothing(smsru, token, caplog):
    message = send_one()
    response = smsru_callback(Client(), token, f"sms_status\n{message.provider_message_id}\n103\n1")
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.delivery_status == ""
    assert any("wrong token" in record.getMessage() for record in caplog.records)
    assert all(token not in record.getMessage() for record in caplog.records)


def test_smsru_callback_is_off_without_a_token(smsru, settings):
    settings.SMSRU_CALLBACK_TOKEN = ""
    assert smsru_callback(Client(), "", "sms_status\n1\n103\n1").status_code == 404
    assert smsru_callback(Client(), "anything", "sms_status\n1\n103\n1").status_code == 404


def test_smsru_callback_takes_post_only(smsru):
    response = Client().get(f"/notifications/sms/smsru/{CALLBACK_TOKEN}/status/")
    assert response.status_code == 405


# --- Twilio ---------------------------------------------------------------------------------


def test_twilio_sends_with_basic_auth_and_the_status_callback(twilio, caplog):
    caplog.set_level(logging.DEBUG)
    message = send_one()
    assert message.status == "sent"
    assert message.provider == "twilio"
    assert message.provider_message_id.startswith("SM")
    [call] = twilio.requests
    assert call["form"] == {
        "To": PHONE,
        "From": "+15005550006",
        "Body": "Ваш код: 123456",
        "StatusCallback": STATUS_URL,
    }
    assert_no_secrets_logged(caplog, TWILIO_TOKEN)


def test_twilio_messaging_service_replaces_from(twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG0123"
    send_one()
    [call] = twilio.requests
    assert call["form"]["MessagingServiceSid"] == "MG0123"
    assert "From" not in call["form"]


def test_twilio_invalid_number_fails_at_once_without_quoting_it(twilio):
    twilio.answer = "invalid_number"
    message = send_one()
    assert message.status == "failed"
    assert message.last_error == "Twilio answered HTTP 400, error 21211"


@pytest.mark.parametrize(("answer", "token"), [("busy", TWILIO_TOKEN), ("ok", "wrong-token")])
def test_twilio_busy_or_refused_credentials_retry_later(twilio, settings, answer, token):
    twilio.answer = answer
    settings.TWILIO_AUTH_TOKEN = token
    message = send_one()
    assert message.status == "pending"
    assert message.last_error.startswith("Twilio answered HTTP 4")
    assert token not in message.last_error


def test_twilio_signature_matches_twilios_documented_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, params.items(), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def twilio_callback(client, fields, signature):
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature is not None else {}
    return client.post(
        "/notifications/sms/twilio/status/",
        data=urllib.parse.urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def test_twilio_signed_status_callback_updates_the_delivery_state(twilio):
    message = send_one()
    fields = {
        "MessageSid": message.provider_message_id,
        "MessageStatus": "delivered",
        "AccountSid": TWILIO_SID,
        "To": PHONE,
    }
    signature = twilio_signature(STATUS_URL, fields.items(), TWILIO_TOKEN)
    response = twilio_callback(Client(), fields, signature)
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    assert message.delivery_updated_at is not None


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_twilio_unsigned_or_wrongly_signed_callback_is_refused(twilio, signature, caplog):
    message = send_one()
    fields = {"MessageSid": message.provider_message_id, "MessageStatus": "failed"}
    response = twilio_callback(Client(), fields, signature)
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.delivery_status == ""
    assert any("signature" in record.getMessage() for record in caplog.records)


def test_twilio_callback_signed_for_other_fields_is_refused(twilio):
    message = send_one()
    signed = {"MessageSid": message.provider_message_id, "MessageStatus": "sent"}
    signature = twilio_signature(STATUS_URL, signed.items(), TWILIO_TOKEN)
    forged = {**signed, "MessageStatus": "failed"}
    assert twilio_callback(Client(), forged, signature).status_code == 403


@override_settings(TWILIO_STATUS_CALLBACK_URL="")
def test_twilio_callback_is_off_without_its_url():
    assert twilio_callback(Client(), {"MessageSid": "SM1"}, "x").status_code == 404
