"""Replies by SMS (Twilio, SMS.ru) and Telegram: STOP stops and START resumes a channel, HELP
answers, YES/NO go to the registered reply handlers, unknown senders get nothing."""

import json
import logging
import urllib.parse

import pytest
from django.test import Client

from notifications.inbound import (
    inbound_receive,
    link_code_of,
    parse_keyword,
    register_reply_handler,
    reply_handlers,
    unregister_reply_handler,
)
from notifications.models import InboundMessage, OutboxMessage
from notifications.senders.smsru import parse_smsru_incoming
from notifications.senders.twilio import twilio_signature
from notifications.services import NotWanted, outbox_enqueue
from portal.models import AuditEvent, ContactPreference, MessengerLink
from portal.models.contact import chat_index
from tests.factories import PatientFactory, PatientWithLoginFactory

pytestmark = pytest.mark.django_db

PHONE = "+79991234567"
SMSRU_PHONE = "79991234567"  # SMS.ru writes numbers as digits only
TOKEN = "twilio-inbound-token"
INBOUND_URL = "https://portal.example.test/notifications/sms/twilio/inbound/"
SMSRU_TOKEN = "smsru-cb-token-0123"
SECRET = "tg-secret-abcdef"
CHAT = "5550001"


@pytest.fixture(autouse=True)
def providers(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_INBOUND_URL = INBOUND_URL
    settings.SMSRU_CALLBACK_TOKEN = SMSRU_TOKEN
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.INBOUND_HELP_TEXT = ""


@pytest.fixture
def anna(db):
    return PatientWithLoginFactory(phone=PHONE, preferred_language="ru")


@pytest.fixture
def linked(anna):
    MessengerLink.objects.create(patient=anna, chat_id=CHAT, chat_bidx=chat_index(CHAT))
    return anna


@pytest.fixture
def handler():
    calls = []

    def offer_reply(*, patient, accept, channel):
        calls.append((patient, accept, channel))
        return True

    register_reply_handler(offer_reply)
    yield calls
    unregister_reply_handler(offer_reply)


counter = iter(range(1, 10_000))


def twilio_sms(text, *, sender=PHONE, sid=None, sign=True, token=TOKEN):
    form = {
        "MessageSid": sid or f"SM{next(counter):032d}",
        "AccountSid": "AC0",
        "From": sender,
        "To": "+15005550006",
        "Body": text,
    }
    headers = {}
    if sign:
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(INBOUND_URL, form.items(), token)
    return Client().post(
        "/notifications/sms/twilio/inbound/",
        data=urllib.parse.urlencode(form),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def smsru_sms(text, *, sender=SMSRU_PHONE, sms_id=None, token=SMSRU_TOKEN):
    line = f"sms_incoming\n{sms_id or f'0000-{next(counter)}'}\n{sender}\n{text}\n1700000000"
    return Client().post(
        f"/notifications/sms/smsru/{token}/status/",
        data=urllib.parse.urlencode([("data[]", line)]),
        content_type="application/x-www-form-urlencoded",
    )


def telegram(text, *, chat=CHAT, update_id=None):
    body = {
        "update_id": update_id or next(counter),
        "message": {"message_id": 1, "chat": {"id": int(chat), "type": "private"}, "text": text},
    }
    return Client().post(
        "/notifications/telegram/webhook/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )


def replies(event=None):
    messages = OutboxMessage.objects.filter(event__startswith="inbound.")
    return list(messages.filter(event=event) if event else messages)


def care_message(patient, channel):
    return outbox_enqueue(
        event="appointment.reminder", channel=channel, patient=patient, context={}
    )


# --- Keywords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("  stop ", "stop"),
        ("Стоп!", "stop"),
        ("/stop", "stop"),
        ("СТАРТ", "start"),
        ("start", "start"),
        ("помощь", "help"),
        ("Help", "help"),
        ("yes", "yes"),
        ("Да", "yes"),
        ("НЕТ.", "no"),
        ("no", "no"),
        ("stop it please", "other"),
        ("", "other"),
    ],
)
def test_keywords_are_read_case_insensitive_and_trimmed(text, keyword):
    assert parse_keyword(text) == keyword


@pytest.mark.parametrize(
    ("text", "code"),
    [("/start ABC", "ABC"), ("/start@bot  xyz ", "xyz"), ("/start", None), ("stop", None)],
)
def test_link_codes_come_from_start_with_an_argument(text, code):
    assert link_code_of(text) == code


def test_smsru_incoming_lines_keep_multi_line_texts_and_skip_other_kinds():
    lines = [
        "sms_incoming\n1-1\n79991234567\nline one\nline two\n1700000000",
        "sms_status\n1-2\n103\n1700000000",
        "sms_incoming\n\n79991234567\nno id\n1",
        "sms_incoming\nshort",
    ]
    assert parse_smsru_incoming(lines) == [("1-1", "79991234567", "line one\nline two")]


def test_only_sms_and_messenger_take_replies():
    with pytest.raises(ValueError, match="no inbound"):
        inbound_receive(provider="x", channel="email", external_id="1", sender="a", text="b")


# --- STOP and START -------------------------------------------------------------------------


def test_sms_stop_stops_care_and_marketing_on_sms_and_start_resumes(anna):
    assert twilio_sms("СТОП").status_code == 200
    with pytest.raises(NotWanted):
        care_message(anna, "sms")
    care_message(anna, "email")  # other channels go on
    [stopped] = replies("inbound.stopped")
    assert stopped.to_address == PHONE and stopped.channel == "sms"
    assert AuditEvent.objects.filter(object_type="portal.contact_preference").exists()
    assert twilio_sms("start").status_code == 200
    assert care_message(anna, "sms").channel == "sms"
    assert len(replies("inbound.started")) == 1


def test_smsru_stop_works_through_its_callback_address(anna):
    response = smsru_sms("stop")
    assert response.content == b"100"
    assert ContactPreference.objects.get(patient=anna, channel="sms").stopped_at is not None


def test_telegram_stop_stops_the_messenger_only_and_start_resumes(linked):
    telegram("/stop")
    with pytest.raises(NotWanted):
        care_message(linked, "messenger")
    care_message(linked, "sms")
    telegram("СТАРТ")
    assert care_message(linked, "messenger").to_address == CHAT
    assert [m.event for m in replies()] == ["inbound.started", "inbound.stopped"]


def test_telegram_start_without_a_code_resumes_a_linked_chat(linked):
    telegram("stop")
    telegram("/start")
    assert ContactPreference.objects.get(channel="messenger").stopped_at is None


def test_stop_twice_and_start_without_stop_change_nothing_more(anna):
    twilio_sms("stop")
    twilio_sms("stop")
    twilio_sms("start")
    twilio_sms("start")
    assert AuditEvent.objects.filter(object_type="portal.contact_preference").count() == 2


def test_stop_pauses_every_patient_sharing_the_number(anna):
    child = PatientFactory(phone=PHONE)
    twilio_sms("STOP")
    assert ContactPreference.objects.filter(stopped_at__isnull=False).count() == 2
    with pytest.raises(NotWanted):
        care_message(child, "sms")


def test_the_answer_to_stop_is_still_sent_on_the_stopped_channel(anna):
    twilio_sms("stop")
    twilio_sms("help")
    assert len(replies("inbound.help")) == 1


# --- HELP, unknown text, unknown senders ----------------------------------------------------


def test_help_answers_with_the_clinic_contact_text(anna, settings):
    from notifications.rendering import render_message

    settings.INBOUND_HELP_TEXT = "Медфронт: +7 495 000-00-00, ежедневно 8–20"
    twilio_sms("ПОМОЩЬ")
    [reply] = replies("inbound.help")
    _subject, body = render_message(reply)
    assert "+7 495 000-00-00" in body
    assert "СТОП" in body or "STOP" in body


@pytest.fixture
def no_text_handlers():
    """Free text without the CRM's assistant: notifications' own default answer."""
    from notifications import inbound

    registered = inbound.text_handlers()
    for handler in registered:
        inbound.unregister_text_handler(handler)
    yield
    for handler in registered:
        inbound.register_text_handler(handler)


def test_unknown_text_gets_a_polite_pointer_to_the_portal(anna, settings, no_text_handlers):
    from notifications.rendering import render_message

    settings.SITE_URL = "https://portal.example.test"
    twilio_sms("Можно перенести на завтра?")
    [reply] = replies("inbound.unknown")
    assert "https://portal.example.test" in render_message(reply)[1]
    record = InboundMessage.objects.get()
    assert record.patient == anna and record.body == "Можно перенести на завтра?"


def test_an_unknown_sender_gets_nothing_and_nothing_of_theirs_is_kept(db, caplog):
    caplog.set_level(logging.INFO)
    twilio_sms("STOP", sender="+79990000000")
    telegram("help", chat="777")
    smsru_sms("hello", sender="not a number")
    assert not OutboxMessage.objects.exists()
    assert not ContactPreference.objects.exists()
    records = InboundMessage.objects.all()
    assert len(records) == 3
    assert all(r.patient is None and r.body == "" for r in records)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "+79990000000" not in text and "777" not in text


# --- YES / NO -------------------------------------------------------------------------------


def test_yes_and_no_go_to_the_registered_handler(anna, linked, handler):
    twilio_sms("Да")
    telegram("no")
    assert handler == [(anna, True, "sms"), (anna, False, "messenger")]
    assert replies() == []  # the handler sends its own notice


def test_a_handler_is_registered_once(handler):
    first = reply_handlers()
    register_reply_handler(first[-1])
    assert reply_handlers() == first


def test_without_a_taker_the_patient_is_told_no_question_waits(anna):
    declined = []

    def no_offer(*, patient, accept, channel):
        declined.append(patient)
        return

    register_reply_handler(no_offer)
    try:
        twilio_sms("YES")
    finally:
        unregister_reply_handler(no_offer)
    assert declined == [anna]
    assert len(replies("inbound.no_question")) == 1


def test_an_answer_is_offered_for_each_patient_sharing_the_number(anna):
    child = PatientFactory(phone=PHONE)
    seen = []

    def child_offer(*, patient, accept, channel):
        seen.append(patient)
        return patient == child

    register_reply_handler(child_offer)
    try:
        twilio_sms("yes")
    finally:
        unregister_reply_handler(child_offer)
    assert seen == [anna, child]
    assert replies() == []


# --- Webhook checks -------------------------------------------------------------------------


def test_unsigned_or_wrongly_signed_inbound_sms_is_refused_and_logged(anna, caplog):
    assert twilio_sms("STOP", sign=False).status_code == 403
    assert twilio_sms("STOP", token="other").status_code == 403
    assert not InboundMessage.objects.exists()
    assert not ContactPreference.objects.exists()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Twilio inbound SMS refused" in text and PHONE not in text


def test_a_replayed_inbound_sms_is_ignored(anna, caplog):
    twilio_sms("help", sid="SM1")
    assert twilio_sms("help", sid="SM1").status_code == 200
    assert len(replies("inbound.help")) == 1
    assert "replayed" in caplog.text


def test_smsru_repeating_a_callback_records_the_sms_once(anna):
    smsru_sms("help", sms_id="77-1")
    smsru_sms("help", sms_id="77-1")
    assert InboundMessage.objects.count() == 1
    assert len(replies("inbound.help")) == 1


def test_inbound_sms_is_refused_without_settings_or_a_sender(anna, settings):
    assert smsru_sms("stop", token="wrong").status_code == 404
    response = Client().post(
        "/notifications/sms/twilio/inbound/",
        data=urllib.parse.urlencode({"Body": "x"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(INBOUND_URL, [("Body", "x")], TOKEN),
    )
    assert response.status_code == 400
    settings.TWILIO_INBOUND_URL = ""
    assert twilio_sms("stop").status_code == 404


def test_the_inbound_url_needs_the_auth_token(settings):
    from notifications.checks import check_sender_settings

    settings.TWILIO_AUTH_TOKEN = ""
    assert "notifications.E004" in [error.id for error in check_sender_settings(None)]


def test_a_patients_text_is_encrypted_at_rest(anna):
    from django.db import connection

    twilio_sms("Перезвоните мне после обеда")
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notifications_inboundmessage")
        [(raw,)] = cursor.fetchall()
    assert "обеда" not in raw and raw


def test_a_code_of_an_anonymised_patient_links_nothing(anna):
    from django.utils import timezone

    from portal.services.contact import messenger_link_code_issue

    code, _expires = messenger_link_code_issue(actor=None, patient=anna)
    anna.anonymised_at = timezone.now()
    anna.save()
    telegram(f"/start {code}")
    assert not MessengerLink.objects.exists()
    assert OutboxMessage.objects.get().event == "messenger.link_failed"
