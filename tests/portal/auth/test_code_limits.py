"""One-time codes share their limits per phone and per patient across every purpose: sign-in
codes (SMS and e-mail), phone verification and consent signing. New sessions, other spellings
of the number and other purposes bring no fresh allowance; no phone is kept in clear."""

import datetime

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from portal.auth.codes import SESSION_KEY
from portal.choices import ConsentPurpose
from portal.consent_texts import ensure_consent_documents
from tests.factories import PatientWithLoginFactory
from tests.portal.auth.conftest import signed_in_user_id, verify_email

pytestmark = pytest.mark.django_db

PHONE = "+79145551234"
TOO_MANY_SENT = "Too many codes were requested for this phone or account"
TOO_MANY_WRONG = "Too many wrong codes for this phone or account"
ADS = ConsentPurpose.ADVERTISING


@pytest.fixture
def phone_patient(db):
    patient = PatientWithLoginFactory(phone=PHONE, phone_verified_at=timezone.now())
    verify_email(patient.user)
    return patient


def post(client, path, data):
    # English pages, so assertions on messages hold whatever the default language is.
    return client.post(path, data, HTTP_ACCEPT_LANGUAGE="en")


def request_code(client, phone=PHONE):
    return post(client, "/accounts/login/code/", {"phone": phone})


def sent_codes(event="auth.login_code"):
    return OutboxMessage.objects.filter(event=event).count()


def consent_send(client, patient, purpose=ADS):
    url = reverse("portal:consent_sign", args=[patient.public_id, purpose])
    return client.post(url, {"action": "send"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)


# --- Sending -----------------------------------------------------------------------------


def test_a_second_code_within_the_pause_is_refused_with_a_clear_message(phone_patient):
    assert request_code(Client()).status_code == 302
    response = request_code(Client(), "8 (914) 555-12-34")
    assert response.status_code == 200
    assert TOO_MANY_SENT in response.content.decode()
    assert "1 minute" in response.content.decode()
    assert sent_codes() == 1


def test_the_refusal_is_translated(phone_patient):
    request_code(Client())
    response = Client().post("/accounts/login/code/", {"phone": PHONE}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "запрошено слишком много кодов" in response.content.decode()


@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0), CODE_SEND_LIMIT=2)
def test_at_most_so_many_codes_per_window(phone_patient):
    assert request_code(Client()).status_code == 302
    assert request_code(Client()).status_code == 302
    response = request_code(Client())
    assert TOO_MANY_SENT in response.content.decode()
    assert "60 minutes" in response.content.decode()
    assert sent_codes() == 2


@override_settings(ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND=True)
def test_a_resend_on_the_code_page_is_refused_too(phone_patient):
    client = Client()
    request_code(client)
    response = client.post(
        "/accounts/login/code/confirm/",
        {"action": "resend"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.status_code == 200
    assert "Too many codes were requested" in response.content.decode()
    assert sent_codes() == 1


def test_sign_in_and_consent_codes_share_the_phones_pause(phone_patient, as_user):
    ensure_consent_documents()
    request_code(Client())
    page = consent_send(as_user(phone_patient.user), phone_patient)
    assert TOO_MANY_SENT in page.content.decode()
    assert sent_codes("consent.sign_code") == 0


def test_a_consent_code_pauses_sign_in_codes_to_the_same_phone(phone_patient, as_user):
    ensure_consent_documents()
    consent_send(as_user(phone_patient.user), phone_patient)
    assert sent_codes("consent.sign_code") == 1
    assert TOO_MANY_SENT in request_code(Client()).content.decode()


@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0), CODE_SEND_LIMIT=2)
def test_a_guardian_signing_for_each_child_shares_one_allowance(patient, dependant, as_user):
    ensure_consent_documents()
    client = as_user(patient.user)
    consent_send(client, patient)
    consent_send(client, dependant)
    page = consent_send(client, dependant, ConsentPurpose.PERSONAL_DATA)
    assert TOO_MANY_SENT in page.content.decode()
    assert sent_codes("consent.sign_code") == 2


# allauth's own limit of phone changes per minute stays out of the way here.
@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": None, "change_phone": None})
def test_changing_the_phone_is_refused_while_the_new_number_is_paused(phone_patient, as_user):
    client = as_user(phone_patient.user)
    assert post(client, "/accounts/phone/change/", {"phone": "+79145550000"}).status_code == 302
    assert sent_codes("auth.verify_phone") == 1
    response = post(client, "/accounts/phone/change/", {"phone": "+7 914 555 00 00"})
    assert response.status_code == 200
    assert TOO_MANY_SENT in response.content.decode()
    assert sent_codes("auth.verify_phone") == 1


# --- Guessing ----------------------------------------------------------------------------


@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0), CODE_GUESS_LIMIT=1)
def test_wrong_codes_are_limited_across_codes_and_sessions(phone_patient):
    client = Client()
    request_code(client)
    post(client, "/accounts/login/code/confirm/", {"code": "000000"})
    code = OutboxMessage.objects.get(event="auth.login_code").context["code"]
    # The guesses are used up: even the right code waits, and no new code is sent.
    response = post(client, "/accounts/login/code/confirm/", {"code": code})
    assert TOO_MANY_WRONG in response.content.decode()
    assert signed_in_user_id(client) is None
    assert TOO_MANY_WRONG in request_code(Client()).content.decode()
    assert sent_codes() == 1


@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0), CODE_GUESS_LIMIT=2)
def test_wrong_consent_codes_count_for_sign_in_codes(phone_patient, as_user):
    ensure_consent_documents()
    client = as_user(phone_patient.user)
    consent_send(client, phone_patient)
    url = reverse("portal:consent_sign", args=[phone_patient.public_id, ADS])
    for _ in range(2):
        client.post(url, {"action": "confirm", "agree": "on", "code": "000000"})
    response = client.post(
        url, {"action": "confirm", "agree": "on", "code": "000000"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert TOO_MANY_WRONG in response.content.decode()
    assert TOO_MANY_WRONG in request_code(Client()).content.decode()


@override_settings(CODE_RESEND_INTERVAL=datetime.timedelta(0), CODE_GUESS_LIMIT=2)
def test_a_right_code_forgives_earlier_typos(phone_patient):
    client = Client()
    request_code(client)
    post(client, "/accounts/login/code/confirm/", {"code": "000000"})
    code = OutboxMessage.objects.get(event="auth.login_code").context["code"]
    assert post(client, "/accounts/login/code/confirm/", {"code": code}).status_code == 302
    assert signed_in_user_id(client) == str(phone_patient.user.pk)
    again = Client()
    request_code(again)
    post(again, "/accounts/login/code/confirm/", {"code": "000000"})
    assert TOO_MANY_WRONG not in request_code(Client()).content.decode()


def test_the_e_mail_sign_in_code_is_limited_like_an_sms(phone_patient):
    email = phone_patient.user.email
    assert post(Client(), "/accounts/login/code/", {"email": email}).status_code == 302
    response = post(Client(), "/accounts/login/code/", {"email": email.upper()})
    assert TOO_MANY_SENT in response.content.decode()
    # The person is counted too: the same patient's phone waits as well.
    assert TOO_MANY_SENT in request_code(Client()).content.decode()


# --- Nothing in clear --------------------------------------------------------------------


def test_no_phone_or_e_mail_is_kept_in_the_store_or_the_session(phone_patient):
    client = Client()
    request_code(client)
    post(client, "/accounts/login/code/confirm/", {"code": "000000"})
    pending = str(client.session[SESSION_KEY])
    keys = " ".join(str(key) for key in cache._cache)
    assert keys
    for text in (pending, keys):
        assert "9145551234" not in text
        assert phone_patient.user.email not in text


def test_nobody_floods_a_strangers_mailbox_with_no_account_here_mails(db):
    from tests.mail import sent_mails

    assert (
        post(Client(), "/accounts/login/code/", {"email": "stranger@example.test"}).status_code
        == 302
    )
    for _ in range(2):
        # The same answer as for a known address that was just sent a code.
        response = post(Client(), "/accounts/login/code/", {"email": "Stranger@example.test"})
        assert TOO_MANY_SENT in response.content.decode()
    assert len(sent_mails()) == 1
