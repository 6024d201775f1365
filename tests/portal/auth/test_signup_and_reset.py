"""E-mail sign-up with mandatory verification, and password reset by mail."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from portal.models import User
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
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.patient@example.test"]
    assert message.subject.startswith("[Medfront]")
    assert LINK.search(message.body)
    assert signed_in_user_id(client) is None


def test_the_account_cannot_be_used_before_verification(client):
    sign_up(client)
    mail.outbox.clear()
    response = sign_in(client, "new.patient@example.test", STRONG_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    assert client.get("/me/security/").status_code == 302


def test_confirming_the_link_signs_in_and_asks_for_the_profile(client):
    sign_up(client)
    path = LINK.search(mail.outbox[0].body).group(1)
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
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [login_user.email]
    path = LINK.search(mail.outbox[0].body).group(1)
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
