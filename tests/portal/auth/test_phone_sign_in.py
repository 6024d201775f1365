"""Sign-in by phone with a one-time SMS code delivered through the outbox."""

import pytest
from django.utils import timezone

from notifications.models import OutboxMessage
from tests.factories import PatientWithLoginFactory
from tests.portal.auth.conftest import sign_in, signed_in_user_id, verify_email

pytestmark = pytest.mark.django_db

PHONE = "+79145551234"


@pytest.fixture
def phone_patient(db):
    patient = PatientWithLoginFactory(phone=PHONE, phone_verified_at=timezone.now())
    verify_email(patient.user)
    return patient


def readable(response) -> str:
    """The page's text with plain spaces and hyphens (phones are kept on one line with
    no-break ones)."""
    return " ".join(response.content.decode().replace("\u2011", "-").split())


def request_code(client, phone):
    return client.post("/accounts/login/code/", {"phone": phone})


def test_a_patient_signs_in_with_an_sms_code_from_the_outbox(client, phone_patient):
    response = request_code(client, "8 (914) 555-12-34")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/confirm/"
    message = OutboxMessage.objects.get(event="auth.login_code")
    assert message.channel == "sms"
    assert message.to_address == PHONE
    assert message.patient == phone_patient
    code = message.context["code"]
    # Six digits: typed on a phone keyboard in any layout.
    assert code.isdigit()
    assert len(code) == 6
    assert signed_in_user_id(client) is None

    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert signed_in_user_id(client) == str(phone_patient.user.pk)


def test_the_code_message_renders_in_the_message_language(phone_patient):
    from notifications.rendering import render_message

    message = OutboxMessage(
        event="auth.login_code", channel="sms", language="en", context={"code": "123456"}
    )
    _subject, body = render_message(message)
    assert "123456" in body
    assert "sign-in code" in body


def test_a_wrong_code_does_not_sign_in(client, phone_patient):
    request_code(client, PHONE)
    response = client.post("/accounts/login/code/confirm/", {"code": "000000"})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_an_unverified_phone_gets_no_code_and_no_session(client, phone_patient):
    phone_patient.phone_verified_at = None
    phone_patient.save(update_fields=["phone_verified_at"])
    response = request_code(client, PHONE)
    # Enumeration-safe: the same next page, but nothing is texted to an unproven number.
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()
    client.post("/accounts/login/code/confirm/", {"code": "000000"})
    assert signed_in_user_id(client) is None


def test_an_unknown_phone_is_not_texted(client, db):
    response = request_code(client, "+79145550000")
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


def test_a_phone_shared_by_two_logins_signs_in_neither(client, phone_patient):
    other = PatientWithLoginFactory(phone=PHONE, phone_verified_at=timezone.now())
    verify_email(other.user)
    request_code(client, PHONE)
    assert not OutboxMessage.objects.exists()


def test_a_malformed_phone_gets_a_form_error(client, db):
    response = request_code(client, "not a phone")
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_the_phone_and_password_also_sign_in(client, phone_patient):
    response = sign_in(client, "+7 914 555 12 34")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(phone_patient.user.pk)


def test_no_phone_is_stored_on_the_user_row(client, phone_patient):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_user WHERE id = %s", [phone_patient.user.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT phone FROM portal_patient WHERE id = %s", [phone_patient.pk])
        stored_phone = cursor.fetchone()[0]
    assert not any(PHONE in str(value) for value in row)
    assert PHONE not in stored_phone


def test_an_unverified_phone_on_file_does_not_stop_a_password_sign_in(client):
    patient = PatientWithLoginFactory(phone="+79145559999", phone_verified_at=None)
    verify_email(patient.user)
    response = sign_in(client, patient.user.email)
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert signed_in_user_id(client) == str(patient.user.pk)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        (
            "ru",
            (
                "Мы отправили код по SMS на номер +7 914 555-12-34.",
                "Код для входа отправлен по SMS на номер +7 914 555-12-34.",
            ),
        ),
        (
            "en",
            (
                "We have sent a code by SMS to +7 914 555-12-34.",
                "A sign-in code has been sent by SMS to +7 914 555-12-34.",
            ),
        ),
    ],
)
def test_the_code_page_says_the_code_went_by_sms_to_the_formatted_number(
    client, phone_patient, language, sentences
):
    client.cookies["django_language"] = language
    response = client.post("/accounts/login/code/", {"phone": "8 (914) 555-12-34"}, follow=True)
    html = readable(response)
    for sentence in sentences:  # the page's text and the message above it
        assert sentence in html
    assert PHONE not in html
    for e_mail in ("e-mail", "почт"):
        assert e_mail not in html.lower()


def test_the_code_page_for_an_e_mail_says_it_went_by_e_mail(client, phone_patient):
    client.cookies["django_language"] = "en"
    response = client.post(
        "/accounts/login/code/", {"email": phone_patient.user.email}, follow=True
    )
    html = readable(response)
    assert f"We have sent a code by e-mail to {phone_patient.user.email}." in html
    assert "SMS" not in html.split("<main", 1)[1].split("</form>", 1)[0]


def test_the_phone_confirmation_page_names_sms_and_the_formatted_number(client):
    client.cookies["django_language"] = "en"
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.phone@example.test",
            "phone": "8 914 555 01 01",
            "password1": "Kx8#mPq2vL9z-Phone",
            "password2": "Kx8#mPq2vL9z-Phone",
        },
        follow=True,
    )
    html = readable(response)
    assert "We have sent a code by SMS to +7 914 555-01-01." in html
    assert "+79145550101" not in html
