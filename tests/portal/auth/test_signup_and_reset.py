"""E-mail sign-up with mandatory verification, and password reset by mail: both mails go
through the outbox like every other message."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client, override_settings

from notifications.models import OutboxMessage
from portal.models import User
from tests.mail import sent_mails
from tests.portal.auth.conftest import STRONG_PASSWORD, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://testserver(/accounts/[^\s]+/)")


def sign_up(client, email="new.patient@example.test", **extra):
    data = {"email": email, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, **extra}
    return client.post("/accounts/signup/", data)


def test_the_sign_up_page_has_labelled_fields(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("email", "phone", "password1", "password2"):
        assert f'<label for="id_{name}"' in html


def test_sign_up_sends_a_verification_e_mail_and_keeps_the_name_out_of_the_user(client):
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new.patient@example.test")
    assert (user.first_name, user.last_name) == ("", "")
    assert EmailAddress.objects.get(user=user).verified is False
    [message] = sent_mails()
    assert message.event == "auth.mail.email_confirmation_signup"
    assert message.to_address == "new.patient@example.test"
    assert message.subject.startswith("Medfront: ")
    assert LINK.search(message.body)
    assert signed_in_user_id(client) is None


def test_the_account_cannot_be_used_before_verification(client):
    sign_up(client)
    OutboxMessage.objects.all().delete()
    response = sign_in(client, "new.patient@example.test", STRONG_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    assert client.get("/me/security/").status_code == 302


def test_confirming_the_link_signs_in_and_asks_for_the_profile(client):
    sign_up(client)
    path = LINK.search(sent_mails()[0].body).group(1)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/me/welcome/"
    user = User.objects.get(email="new.patient@example.test")
    assert EmailAddress.objects.get(user=user).verified is True
    assert signed_in_user_id(client) == str(user.pk)


def test_a_second_sign_up_with_a_taken_e_mail_creates_no_account(client, login_user):
    response = sign_up(client, email=login_user.email)
    assert response.status_code == 302
    assert User.objects.filter(email=login_user.email).count() == 1


def test_a_weak_password_is_refused_with_a_message(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "weak@example.test", "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not User.objects.filter(email="weak@example.test").exists()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, login_user):
    response = client.post("/accounts/password/reset/", {"email": login_user.email})
    assert response.status_code == 302
    [message] = sent_mails()
    assert message.event == "auth.mail.password_reset_key"
    assert message.to_address == login_user.email
    path = LINK.search(message.body).group(1)
    # allauth swaps the key for a session marker and redirects to the form.
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "Another#Strong-pass-42"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    login_user.refresh_from_db()
    assert login_user.check_password(new_password)


def test_password_reset_for_an_unknown_address_reveals_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"


@override_settings(NETWORK_NAME="Клиники Здоровье")
def test_the_confirmation_mail_greets_with_the_network_name_not_the_host(client):
    sign_up(client)
    [message] = sent_mails()
    assert "Клиники Здоровье" in message.body
    assert "Клиники Здоровье" in message.subject
    # The host appears only inside the link, never as the sender's name.
    assert "testserver" not in LINK.sub("", message.body)


def test_the_mail_is_written_in_the_language_of_the_page(client):
    client.cookies["django_language"] = "en"
    sign_up(client)
    [message] = sent_mails()
    assert message.language == "en"
    assert "Hello from Medfront!" in message.body
    client.cookies["django_language"] = "ru"
    mail = sign_up(Client(), email="second@example.test")
    assert mail.status_code == 302
    russian = sent_mails(to="second@example.test")[0]
    assert russian.language == "ru"
    assert "Medfront" in russian.body and "Hello" not in russian.body


def test_the_reset_link_is_not_stored_in_clear(client, login_user):
    client.post("/accounts/password/reset/", {"email": login_user.email})
    [message] = sent_mails()
    path = LINK.search(message.body).group(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT context, body, subject, to_address FROM notifications_outboxmessage")
        raw = " ".join(str(value) for value in cursor.fetchone())
    assert path not in raw
    assert login_user.email not in raw


@override_settings(DEV_OUTBOX_ENABLED=True)
def test_a_new_user_finishes_sign_up_from_the_development_outbox(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.patient@example.test",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
        follow=True,
    )
    assert 'href="/notifications/outbox/mine/"' in response.content.decode()
    sent_mails()  # the worker delivers it through the development sender
    page = client.get("/notifications/outbox/mine/").content.decode()
    match = re.search(r'href="(https?://testserver(/accounts/confirm-email/[^"]+/))"', page)
    assert match, "the development outbox shows the confirmation link as a link"
    assert client.post(match.group(2)).status_code == 302
    assert signed_in_user_id(client) is not None
    # Another browser sees none of it.
    other = Client().get("/notifications/outbox/mine/").content.decode()
    assert "confirm-email" not in other


def test_the_browser_outbox_is_not_found_without_the_development_outbox(client):
    sign_up(client)
    assert client.get("/notifications/outbox/mine/").status_code == 404
