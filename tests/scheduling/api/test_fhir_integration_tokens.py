"""Integration tokens on the FHIR API: `Authorization: Bearer`, their scopes and clinic, no
staff lifetime, and refused once revoked, expired or wrong; the REST API does not take them."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.choices import IntegrationScope
from portal.models import IntegrationToken
from portal.services.integration_tokens import integration_token_issue, integration_token_revoke
from scheduling.models import Appointment
from tests.scheduling.api.test_fhir import BASE, _book_body, fhir, slot_bundle

pytestmark = pytest.mark.django_db
READ, WRITE = IntegrationScope.FHIR_READ, IntegrationScope.FHIR_WRITE


@pytest.fixture
def free_slot(api, service, doctor, tomorrow_a):
    return slot_bundle(api, service, tomorrow_a, tomorrow_a + datetime.timedelta(days=1))[0]


def issue(*, scopes=(READ, WRITE), clinic=None, expires_at=None):
    return integration_token_issue(
        name="Connector", scopes=list(scopes), clinic=clinic, expires_at=expires_at, actor=None
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_of_the_slots_clinic_books_and_its_use_is_recorded(
    clinic_a, other_patient, free_slot
):
    row, token = issue(clinic=clinic_a)
    response = bearer(token).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
    )
    fhir(response, 201)
    assert Appointment.objects.get().patient == other_patient
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_a_token_of_another_clinic_may_not_book_here(clinic_b, other_patient, free_slot):
    _row, token = issue(clinic=clinic_b)
    response = bearer(token).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
    )
    fhir(response, 403)
    assert not Appointment.objects.exists()


def test_a_read_only_token_reads_but_may_not_book(clinic_a, other_patient, free_slot):
    _row, token = issue(scopes=[READ], clinic=clinic_a)
    client = bearer(token)
    fhir(client.get(f"{BASE}/Appointment"))
    refused = fhir(
        client.post(
            f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
        ),
        403,
    )
    assert "fhir.write" in refused["issue"][0]["diagnostics"]
    assert not Appointment.objects.exists()


def test_a_write_only_token_may_not_read(clinic_a):
    _row, token = issue(scopes=[WRITE], clinic=clinic_a)
    body = fhir(bearer(token).get(f"{BASE}/Appointment"), 403)
    assert "fhir.read" in body["issue"][0]["diagnostics"]


def test_it_outlives_the_staff_token_lifetime(clinic_a):
    row, token = issue(clinic=clinic_a)
    long_ago = timezone.now() - datetime.timedelta(days=90)
    IntegrationToken.objects.filter(pk=row.pk).update(created_at=long_ago, last_used_at=long_ago)
    fhir(bearer(token).get(f"{BASE}/Appointment"))


@pytest.mark.parametrize("state", ["revoked", "expired", "wrong", "garbage", "two words"])
def test_a_revoked_expired_or_wrong_token_is_refused(clinic_a, state):
    row, token = issue(clinic=clinic_a)
    if state == "revoked":
        integration_token_revoke(token=row, actor=None)
    elif state == "expired":
        IntegrationToken.objects.filter(pk=row.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    elif state == "wrong":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif state == "garbage":
        token = "not-a-token"
    else:
        token = f"{token} extra"
    response = bearer(token).get(f"{BASE}/Appointment")
    body = fhir(response, 401)
    assert body["issue"][0]["code"] == "login"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_rest_api_does_not_take_it(clinic_a):
    _row, token = issue(clinic=clinic_a)
    assert bearer(token).get("/api/v1/me/").status_code == 401
