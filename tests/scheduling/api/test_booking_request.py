"""What a booking request checks before the engine: who may book, and the ids it names."""

import uuid

import pytest

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"


def test_malformed_json_is_403_for_a_non_booker_and_400_for_a_patient(api_as, marketer, patient):
    broken = "{not json"
    denied = api_as(marketer).post(URL, broken, content_type="application/json")
    assert denied.status_code == 403
    refused = api_as(patient.user).post(URL, broken, content_type="application/json")
    assert refused.status_code == 400
    assert "JSON" in refused.json()["detail"]


def test_an_unknown_or_inactive_service_or_doctor_is_404(api_as, patient, service, doctor):
    start = "2027-03-02T09:00:00+08:00"
    doctor.is_active = False
    doctor.save(update_fields=["is_active"])
    for body in (
        {"service": str(service.public_id), "doctor": str(doctor.public_id), "start": start},
        {"service": str(uuid.uuid4()), "doctor": str(doctor.public_id), "start": start},
    ):
        response = api_as(patient.user).post(URL, body, format="json")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/problem+json")
