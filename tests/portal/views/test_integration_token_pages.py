"""The network admin's integration token page: who may use it, the token shown once, revoking,
bad input."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.models import IntegrationToken
from portal.services.integration_tokens import integration_token_issue
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/network/integrations/"


def form(**changes):
    data = {"name": "Клиника-партнёр", "scopes": ["fhir.read", "fhir.write"], "clinic": ""}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "persona", ["registrar_a", "clinic_admin_a", "director", "marketer", "doctor_a"]
)
def test_other_staff_are_refused(request, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert client.post(URL, form()).status_code == 403
    assert not IntegrationToken.objects.exists()


def test_a_patient_is_refused_and_anonymous_sent_to_sign_in(client, patient):
    assert client_for(patient.user).get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_token_is_shown_once(network_admin, clinic_a):
    client = client_for(network_admin)
    response = client.post(URL, form(clinic=str(clinic_a.pk)))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    row = IntegrationToken.objects.get()
    token = response.context["issued_token"]
    assert token.startswith(row.prefix) and token in response.content.decode()
    assert row.clinic == clinic_a and row.scopes == ["fhir.read", "fhir.write"]
    again = client.get(URL).content.decode()
    assert token not in again and row.prefix in again and "Клиника-партнёр" in again


@pytest.mark.parametrize(
    "changes",
    [
        {"scopes": []},
        {"scopes": ["admin"]},
        {"name": ""},
        {"expires_on": "2020-01-01"},
        {"expires_on": "not a date"},
        {"expires_on": (timezone.localdate() + datetime.timedelta(days=4000)).isoformat()},
        {"clinic": "999999"},
    ],
)
def test_bad_input_is_explained_and_creates_nothing(network_admin, changes):
    response = client_for(network_admin).post(URL, form(**changes))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not response.context["issued_token"]
    assert not IntegrationToken.objects.exists()


def test_an_expiry_is_the_end_of_the_chosen_day(network_admin):
    day = timezone.localdate() + datetime.timedelta(days=30)
    client_for(network_admin).post(URL, form(expires_on=day.isoformat()))
    zone = zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)
    expires = IntegrationToken.objects.get().expires_at.astimezone(zone)
    assert expires.date() == day and expires.hour == 23


def test_the_network_admin_revokes_and_others_may_not(network_admin, registrar_a, clinic_a):
    row, _token = integration_token_issue(
        name="Old", scopes=["fhir.read"], clinic=clinic_a, expires_at=None, actor=None
    )
    url = reverse("portal:integration_token_revoke", args=[row.public_id])
    assert client_for(registrar_a).post(url).status_code == 403
    response = client_for(network_admin).post(url)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    # Revoking again is harmless; an unknown token is a 404.
    assert client_for(network_admin).post(url).status_code == 302
    unknown = reverse(
        "portal:integration_token_revoke", args=["0" * 8 + "-0000-0000-0000-" + "0" * 12]
    )
    assert client_for(network_admin).post(unknown).status_code == 404
