"""The Telegram bot: its sender against a local server speaking the Bot API, the webhook's
secret header and replay refusal, and linking a chat with a one-time code from the portal."""

import datetime
import json
import logging

import pytest
from django.test import Client
from django.utils import timezone

from notifications.dispatch import outbox_dispatch_due
from notifications.models import InboundMessage, OutboxMessage
from notifications.services import outbox_enqueue
from portal.models import MessengerLink, MessengerLinkCode
from portal.services.contact import messenger_link_code_issue
from tests.factories import PatientWithLoginFactory
from tests.notifications.telegram_server import BOT_TOKEN, FakeTelegram

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-0123456789"
CHAT = 987654321
URL = "/notifications/telegram/webhook/"


@pytest.fixture
def telegram(settings):
    server = FakeTelegram().start()
    settings.NOTIFICATION_SENDERS = {"messenger": "notifications.senders.telegram.TelegramSender"}
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_USERNAME = "medfront_test_bot"
    yield server
    server.stop()


def send_one(chat=CHAT) -> OutboxMessage:
    message = outbox_enqueue(
        event="test.telegram", channel="messenger", to=str(chat), context={"text": "Привет"}
    )
    outbox_dispatch_due()
    message.refresh_from_db()
    return message


def logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# --- Sender ---------------------------------------------------------------------------------


def test_it_sends_with_send_message_and_records_the_message_id(telegram, caplog):
    caplog.set_level(logging.DEBUG)
    message = send_one()
    assert message.status == "sent"
    assert message.provider == "telegram"
    assert message.provider_message_id == "1"
    [call] = telegram.requests
    assert call["path"] == f"/bot{BOT_TOKEN}/sendMessage"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["json"]["chat_id"] == str(CHAT)
    assert call["json"]["text"] == "Привет"
    assert BOT_TOKEN not in logged(caplog)
    assert str(CHAT) not in message.provider_message_id


@pytest.mark.parametrize("answer", ["blocked", "chat_not_found"])
def test_a_blocked_bot_or_a_gone_chat_fails_the_message_at_once(telegram, answer):
    telegram.answer = answer
    message = send_one()
    assert message.status == "failed"
    assert message.attempts == 1
    assert message.last_error.startswith("Telegram answered HTTP 4")
    assert "chat" not in message.last_error  # the description is not kept


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("flood", "Telegram answered HTTP 429"),
        ("not_json", "Telegram answered something that is not JSON"),
        ("no_result", "Telegram answered without a message_id"),
    ],
)
def test_flood_control_and_garbled_answers_are_retried(telegram, answer, error):
    telegram.answer = answer
    message = send_one()
    assert message.status == "pending"
    assert message.last_error == error


def test_an_unreachable_api_is_retried_without_the_token_in_the_error(telegram, settings):
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"
    message = send_one()
    assert message.status == "pending"
    assert message.last_error.startswith("Telegram unreachable")
    assert BOT_TOKEN not in message.last_error


def test_an_answer_that_is_not_an_object_is_retried(telegram, monkeypatch):
    from notifications.senders import SendError, json_answer

    with pytest.raises(SendError, match="Telegram answered something that is not a JSON object"):
        json_answer(b"[1, 2]", provider="Telegram")


def test_the_sender_needs_its_token(settings):
    from notifications.checks import check_sender_settings

    settings.NOTIFICATION_SENDERS = {"messenger": "notifications.senders.telegram.TelegramSender"}
    settings.TELEGRAM_BOT_TOKEN = ""
    assert [error.id for error in check_sender_settings(None)] == ["notifications.E002"]


# --- Webhook --------------------------------------------------------------------------------


def update(update_id: int, text: str, *, chat=CHAT, chat_type="private") -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1700000000,
            "from": {"id": chat, "is_bot": False, "first_name": "Анна"},
            "chat": {"id": chat, "type": chat_type, "first_name": "Анна"},
            "text": text,
        },
    }


def post(body, *, secret: str | None = SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return Client().post(URL, data=data, content_type="application/json", **headers)


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1]])
def test_an_update_without_the_right_secret_is_refused_and_logged_without_pii(
    telegram, secret, caplog
):
    response = post(update(1, "СТОП"), secret=secret)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    text = logged(caplog)
    assert "Telegram webhook refused" in text
    assert str(CHAT) not in text and "СТОП" not in text and "Анна" not in text


def test_the_webhook_is_off_without_a_secret(telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert post(update(1, "HELP"), secret="").status_code == 404


def test_a_replayed_update_is_ignored_and_logged(telegram, caplog):
    patient = PatientWithLoginFactory()
    code, _expires = messenger_link_code_issue(actor=None, patient=patient)
    assert post(update(10, f"/start {code}")).status_code == 200
    assert post(update(11, "STOP")).status_code == 200
    replies = OutboxMessage.objects.count()
    assert post(update(11, "STOP")).status_code == 200
    assert OutboxMessage.objects.count() == replies
    assert InboundMessage.objects.filter(external_id="11").count() == 1
    assert "replayed" in logged(caplog)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        {"update_id": "1"},
        {"update_id": True},
        {"update_id": 1, "message": {"chat": {"id": "x", "type": "private"}, "text": "hi"}},
    ],
)
def test_malformed_updates_are_a_clear_400(telegram, body):
    assert post(body).status_code == 400
    assert not InboundMessage.objects.exists()


def test_group_chats_and_updates_without_text_are_acknowledged_and_skipped(telegram):
    assert post(update(1, "STOP", chat_type="group")).status_code == 200
    assert post({"update_id": 2, "edited_message": {}}).status_code == 200
    assert not InboundMessage.objects.exists()


# --- Linking --------------------------------------------------------------------------------


def test_start_with_a_code_links_the_chat_and_says_so(telegram):
    patient = PatientWithLoginFactory(preferred_language="en")
    code, expires_at = messenger_link_code_issue(actor=patient.user, patient=patient)
    assert expires_at > timezone.now()
    assert post(update(1, f"/start {code}")).status_code == 200
    link = MessengerLink.objects.get(patient=patient)
    assert link.chat_id == str(CHAT)
    [reply] = OutboxMessage.objects.filter(event="messenger.linked")
    assert reply.to_address == str(CHAT) and reply.channel == "messenger"
    outbox_dispatch_due()
    [call] = telegram.requests
    assert "linked to your account" in call["json"]["text"]


def test_the_code_is_stored_only_as_a_digest_and_works_once(telegram):
    patient = PatientWithLoginFactory()
    code, _expires = messenger_link_code_issue(actor=None, patient=patient)
    stored = MessengerLinkCode.objects.get(patient=patient)
    assert code not in stored.code_digest
    post(update(1, f"/start {code}"))
    post(update(2, f"/start {code}", chat=CHAT + 1))
    assert MessengerLink.objects.get(patient=patient).chat_id == str(CHAT)
    assert OutboxMessage.objects.filter(event="messenger.link_failed").count() == 1


def test_an_expired_code_links_nothing(telegram):
    patient = PatientWithLoginFactory()
    code, _expires = messenger_link_code_issue(actor=None, patient=patient)
    MessengerLinkCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    post(update(1, f"/start {code}"))
    assert not MessengerLink.objects.exists()
    [reply] = OutboxMessage.objects.filter(event="messenger.link_failed")
    assert reply.patient is None


def test_a_code_links_only_the_patient_it_was_issued_to(telegram):
    anna, boris = PatientWithLoginFactory(), PatientWithLoginFactory()
    anna_code, _ = messenger_link_code_issue(actor=None, patient=anna)
    boris_code, _ = messenger_link_code_issue(actor=None, patient=boris)
    post(update(1, f"/start {boris_code}"))
    assert MessengerLink.objects.get().patient == boris
    # Boris's new code replaces his old ones, never Anna's.
    messenger_link_code_issue(actor=None, patient=boris)
    post(update(2, f"/start {anna_code}", chat=CHAT + 1))
    assert MessengerLink.objects.get(patient=anna).chat_id == str(CHAT + 1)


def test_a_chat_linked_again_moves_to_the_new_patient(telegram):
    anna, boris = PatientWithLoginFactory(), PatientWithLoginFactory()
    post(update(1, f"/start {messenger_link_code_issue(actor=None, patient=anna)[0]}"))
    post(update(2, f"/start {messenger_link_code_issue(actor=None, patient=boris)[0]}"))
    assert list(MessengerLink.objects.values_list("patient", flat=True)) == [boris.pk]


def test_a_code_typed_in_lower_case_with_the_bot_name_still_links(telegram):
    patient = PatientWithLoginFactory()
    code, _ = messenger_link_code_issue(actor=None, patient=patient)
    post(update(1, f"/start@medfront_test_bot {code.lower()}"))
    assert MessengerLink.objects.filter(patient=patient).exists()


def test_the_chat_id_is_encrypted_at_rest(telegram):
    from django.db import connection

    patient = PatientWithLoginFactory()
    post(update(1, f"/start {messenger_link_code_issue(actor=None, patient=patient)[0]}"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT chat_id, chat_bidx FROM portal_messengerlink")
        raw_chat, bidx = cursor.fetchone()
    assert str(CHAT) not in raw_chat and str(CHAT) not in bidx
