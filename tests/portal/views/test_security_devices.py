"""The Security page lists the apps signed in through the API and signs any of them out."""

import pytest
from django.urls import reverse

from portal.models import ApiToken

pytestmark = pytest.mark.django_db

PAGE = "/me/security/"
FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def issue(user, agent=FIREFOX):
    from portal.services.api_tokens import api_token_issue

    return api_token_issue(user=user, user_agent=agent, mfa_verified=False)[0]


def sign_out_url(token):
    return reverse("portal:security_app_sign_out", args=[token.public_id])


def test_the_page_lists_the_logins_own_apps(patient, other_patient, as_user):
    issue(patient.user)
    issue(patient.user, agent="okhttp/4.12.0")
    issue(other_patient.user, agent="curl/8.5")
    html = as_user(patient.user).get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Firefox · Android" in html
    assert "Android app" in html
    assert "curl" not in html


def test_an_app_is_signed_out_from_the_page(patient, as_user):
    gone, kept = issue(patient.user), issue(patient.user)
    response = as_user(patient.user).post(sign_out_url(gone))
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert list(ApiToken.objects.filter(user=patient.user)) == [kept]


def test_staff_see_and_sign_out_their_own_apps(registrar_a, as_user):
    token = issue(registrar_a)
    client = as_user(registrar_a)
    assert "Firefox · Android" in client.get(PAGE).content.decode()
    assert client.post(sign_out_url(token)).status_code == 302
    assert not ApiToken.objects.exists()


def test_someone_elses_app_is_404_and_stays(patient, other_patient, as_user):
    theirs = issue(other_patient.user)
    assert as_user(patient.user).post(sign_out_url(theirs)).status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_anonymous_is_sent_to_sign_in_and_get_is_refused(client, patient, as_user):
    token = issue(patient.user)
    response = client.post(sign_out_url(token))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert as_user(patient.user).get(sign_out_url(token)).status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()
