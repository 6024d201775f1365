"""Connector pages: the network admin's configuration (secret write-only) and health, a
connector clinic's times on the doctor's page, and the patient's confirmation."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from scheduling.choices import BookingRequestSource, ConnectorKind
from scheduling.models import BookingRequest, ClinicConnector
from tests.conftest import client_for

from .test_fallback import SCHEDULE, slot_json, soon

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(connector_clinic, local_doctor, upstream):
    return ClinicConnector.objects.create(
        clinic=connector_clinic,
        kind=ConnectorKind.FHIR_R4,
        base_url=f"{upstream.url}/fhir",
        secret="very-secret-token",
        timeout_seconds=1,
        settings={"schedules": {str(local_doctor.public_id): SCHEDULE}},
    )


def bundle(*slots) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": s} for s in slots]}
    ).encode()


# --- The network admin's pages -------------------------------------------------------------------


def test_the_network_admin_sees_connector_clinics(connector, connector_clinic, network_admin):
    response = client_for(network_admin).get(reverse("scheduling:connectors"))
    assert response.status_code == 200
    assert connector_clinic.name in response.content.decode()


@pytest.mark.parametrize("who", ["registrar_a", "clinic_admin_a", "director", "patient"])
def test_others_are_refused(request, connector, connector_clinic, who):
    user = request.getfixturevalue(who)
    client = client_for(getattr(user, "user", user))
    assert client.get(reverse("scheduling:connectors")).status_code == 403
    page = reverse("scheduling:connector", args=[connector_clinic.public_id])
    assert client.get(page).status_code == 403
    assert client.post(page, {"kind": "ics"}).status_code == 403
    assert ClinicConnector.objects.get().kind == ConnectorKind.FHIR_R4


def test_anonymous_visitors_are_sent_to_sign_in(client, connector_clinic):
    response = client.get(reverse("scheduling:connectors"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_clinic_is_404(network_admin):
    page = reverse("scheduling:connector", args=[uuid.uuid4()])
    assert client_for(network_admin).get(page).status_code == 404


def test_the_secret_is_never_shown_back(connector, connector_clinic, network_admin):
    page = reverse("scheduling:connector", args=[connector_clinic.public_id])
    body = client_for(network_admin).get(page).content.decode()
    assert "very-secret-token" not in body
    assert 'type="password"' in body
    assert "секрет сохранён" in body.lower() or "secret is stored" in body


def form(**changes) -> dict:
    return {
        "kind": "fhir_r4",
        "base_url": "https://mis.example.test/fhir/R4",
        "settings": "",
        "secret": "",
        "timeout_seconds": "4",
        "is_enabled": "on",
    } | changes


def test_a_connector_is_set_up_and_an_empty_secret_keeps_the_old_one(
    connector_clinic, network_admin
):
    page = reverse("scheduling:connector", args=[connector_clinic.public_id])
    client = client_for(network_admin)
    response = client.post(page, form(secret="first-token", settings='{"schedules": {}}'))
    assert response.status_code == 302
    assert ClinicConnector.objects.get().secret == "first-token"
    client.post(page, form(timeout_seconds="6"))
    stored = ClinicConnector.objects.get()
    assert (stored.secret, stored.timeout_seconds) == ("first-token", 6)
    assert "first-token" not in client.get(page).content.decode()


@pytest.mark.parametrize(
    "bad",
    [
        {"settings": "{not json"},
        {"settings": "[1, 2]"},
        {"settings": '{"schedules": {"a": 1}}'},
        {"base_url": "ftp://nowhere"},
        {"kind": "telex"},
        {"timeout_seconds": "0"},
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    connector, connector_clinic, network_admin, bad
):
    page = reverse("scheduling:connector", args=[connector_clinic.public_id])
    response = client_for(network_admin).post(page, form(**bad))
    assert response.status_code == 200
    assert (
        'aria-invalid="true"' in response.content.decode()
        or "errorlist" in response.content.decode()
    )
    stored = ClinicConnector.objects.get()
    assert (stored.base_url, stored.timeout_seconds) == (connector.base_url, 1)


def test_check_now_reports_how_the_system_answers(
    connector, connector_clinic, network_admin, upstream
):
    check = reverse("scheduling:connector_check", args=[connector_clinic.public_id])
    client = client_for(network_admin)
    upstream.body = json.dumps(
        {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
    ).encode()
    response = client.post(check, follow=True)
    assert "4.0.1" in response.content.decode()
    upstream.status = 500
    response = client.post(check, follow=True)
    assert "ConnectorUnavailable" in response.content.decode()
    assert "ConnectorUnavailable" in response.content.decode()


def test_check_now_without_a_connector_says_so(connector_clinic, network_admin):
    check = reverse("scheduling:connector_check", args=[connector_clinic.public_id])
    response = client_for(network_admin).post(check)
    assert response.status_code == 302


# --- The patient's side -------------------------------------------------------------------------


def doctor_page(doctor, service):
    return f"{reverse('scheduling:doctor', args=[doctor.public_id])}?service={service.public_id}"


def test_the_doctors_page_offers_the_systems_times(
    connector, upstream, client, connector_clinic, local_doctor, upstream_service
):
    start = soon(connector_clinic)
    upstream.body = bundle(slot_json(start))
    body = client.get(doctor_page(local_doctor, upstream_service)).content.decode()
    assert reverse("scheduling:confirm_external") in body
    assert start.astimezone(connector_clinic.tz).strftime("%H:%M") in body


def test_the_doctors_page_says_when_the_system_is_not_answering(
    connector, upstream, client, local_doctor, upstream_service
):
    upstream.status = 503
    response = client.get(doctor_page(local_doctor, upstream_service))
    assert response.status_code == 200
    assert "не отвечает" in response.content.decode()


def picked(clinic, doctor, service, start, slot="slot-1") -> dict:
    return {
        "clinic": str(clinic.public_id),
        "doctor": str(doctor.public_id),
        "service": str(service.public_id),
        "start": start.isoformat(),
        "slot": slot,
    }


def test_the_patient_confirms_and_a_failing_system_leaves_a_plain_request(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    start = soon(connector_clinic)
    url = reverse("scheduling:confirm_external")
    client = client_for(patient.user)
    page = client.get(
        f"{url}?{urlencode(picked(connector_clinic, local_doctor, upstream_service, start))}"
    )
    assert page.status_code == 200
    assert local_doctor.last_name in page.content.decode()
    upstream.status = 503
    response = client.post(
        url, picked(connector_clinic, local_doctor, upstream_service, start), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("scheduling:visits")
    assert "заявк" in response.content.decode()
    assert BookingRequest.objects.get().source == BookingRequestSource.CONNECTOR


def test_a_vanished_slot_sends_the_patient_back_with_a_clear_message(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    start = soon(connector_clinic)
    upstream.status = 404
    upstream.body = b"{}"
    response = client_for(patient.user).post(
        reverse("scheduling:confirm_external"),
        picked(connector_clinic, local_doctor, upstream_service, start),
    )
    assert response.status_code == 302
    assert reverse("scheduling:doctor", args=[local_doctor.public_id]) in response["Location"]
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize(
    "broken",
    [
        {"start": "tomorrow"},
        {"start": "2027-03-02T10:00:00"},
        {"slot": "../../etc/passwd"},
        {"doctor": "not-a-uuid"},
        {"clinic": str(uuid.uuid4())},
    ],
)
def test_a_malformed_link_is_404(
    connector, connector_clinic, local_doctor, upstream_service, patient, broken
):
    params = (
        picked(connector_clinic, local_doctor, upstream_service, soon(connector_clinic)) | broken
    )
    url = f"{reverse('scheduling:confirm_external')}?{urlencode(params)}"
    assert client_for(patient.user).get(url).status_code == 404


def test_a_doctor_of_another_clinic_is_404(
    connector, connector_clinic, upstream_service, patient, clinic_a
):
    from tests.factories import DoctorFactory

    stranger = DoctorFactory(services=[upstream_service], clinics=[clinic_a])
    params = picked(connector_clinic, stranger, upstream_service, soon(connector_clinic))
    url = f"{reverse('scheduling:confirm_external')}?{urlencode(params)}"
    assert client_for(patient.user).get(url).status_code == 404


def test_a_clinic_not_in_connector_mode_is_404(
    connector, connector_clinic, local_doctor, upstream_service, patient
):
    connector.is_enabled = False
    connector.save()
    params = picked(connector_clinic, local_doctor, upstream_service, soon(connector_clinic))
    url = f"{reverse('scheduling:confirm_external')}?{urlencode(params)}"
    assert client_for(patient.user).get(url).status_code == 404


def test_staff_do_not_use_the_patients_confirmation(
    connector, connector_clinic, local_doctor, upstream_service, registrar_a
):
    params = picked(connector_clinic, local_doctor, upstream_service, soon(connector_clinic))
    url = f"{reverse('scheduling:confirm_external')}?{urlencode(params)}"
    assert client_for(registrar_a).get(url).status_code == 403


def test_healthz_reports_connectors(client, connector):
    body = client.get("/healthz").json()
    assert body["connectors"] in ("ok", "degraded")
    assert body["status"] == "ok"


def test_a_patient_booking_on_the_page_lands_on_the_visit(
    connector, upstream, connector_clinic, local_doctor, upstream_service, patient
):
    start = soon(connector_clinic)
    upstream.routes["GET"] = (200, json.dumps(slot_json(start)).encode())
    upstream.routes["POST"] = (
        201,
        json.dumps(
            {
                "resourceType": "Appointment",
                "id": "ext-7",
                "status": "booked",
                "start": start.isoformat(),
                "end": (start + datetime.timedelta(minutes=30)).isoformat(),
            }
        ).encode(),
    )
    response = client_for(patient.user).post(
        reverse("scheduling:confirm_external"),
        picked(connector_clinic, local_doctor, upstream_service, start),
    )
    assert response.status_code == 302
    assert "/visits/" in response["Location"]
    visits = client_for(patient.user).get(reverse("scheduling:visits")).content.decode()
    assert local_doctor.last_name in visits
