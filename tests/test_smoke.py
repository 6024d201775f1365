import pytest

pytestmark = pytest.mark.django_db


def test_the_landing_page_lists_active_clinics(client, clinic_a):
    response = client.get("/")
    assert response.status_code == 200
    assert "Медфронт Центр" in response.content.decode()


def test_patient_pii_round_trips_through_encryption(patient):
    from portal.models import Patient

    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.last_name == "Иванова"
    assert fresh.phone_bidx and len(fresh.phone_bidx) == 64
