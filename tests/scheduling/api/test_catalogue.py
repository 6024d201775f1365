"""Public catalogue: clinics, specialties, services, doctors — anonymous, read-only."""

import pytest

from tests.scheduling.api.builders import make_doctor, make_service, make_specialty

pytestmark = pytest.mark.django_db


def test_anonymous_lists_clinics_with_time_zone_and_contacts(api, clinic_a, clinic_b):
    response = api.get("/api/v1/clinics/")
    assert response.status_code == 200
    by_id = {c["id"]: c for c in response.json()}
    assert by_id[str(clinic_a.public_id)]["timezone"] == "Asia/Irkutsk"
    assert by_id[str(clinic_b.public_id)]["timezone"] == "Europe/Moscow"
    assert {"address", "phone", "email", "city"} <= set(by_id[str(clinic_a.public_id)])


def test_inactive_clinics_are_not_listed(api, clinic_a):
    clinic_a.is_active = False
    clinic_a.save()
    assert api.get("/api/v1/clinics/").json() == []


def test_services_show_duration_price_and_preparation(api, service, specialty):
    make_service(specialty=specialty, is_active=False)
    body = api.get("/api/v1/services/").json()
    assert body == [
        {
            "id": str(service.public_id),
            "code": "therapist-visit",
            "name": service.name,
            "specialty": str(specialty.public_id),
            "duration_minutes": 30,
            "price": "2500.00",
            "preparation": "Come 10 minutes early.",
        }
    ]


def test_specialties_are_listed(api, specialty):
    assert [s["slug"] for s in api.get("/api/v1/specialties/").json()] == ["therapist"]


def test_doctors_filter_by_specialty_and_clinic(api, doctor, doctor_b, clinic_a, clinic_b):
    other = make_specialty()
    make_doctor(service=make_service(specialty=other), clinics=[clinic_a], last_name="Другой")
    in_a = api.get("/api/v1/doctors/", {"clinic": str(clinic_a.public_id)}).json()
    assert len(in_a) == 2
    both = api.get(
        "/api/v1/doctors/",
        {"clinic": str(clinic_a.public_id), "specialty": str(doctor.specialties.get().public_id)},
    ).json()
    assert [d["id"] for d in both] == [str(doctor.public_id)]
    assert both[0]["languages"] == ["ru", "en"]
    assert both[0]["bio"]
    assert both[0]["clinics"] == [str(clinic_a.public_id)]
    assert both[0]["services"] == [str(doctor.services.get().public_id)]


def test_a_malformed_filter_is_400_and_an_unknown_one_404(api, doctor):
    bad = api.get("/api/v1/doctors/", {"clinic": "not-a-uuid"})
    assert bad.status_code == 400
    assert "clinic" in bad.json()["errors"]
    unknown = api.get("/api/v1/doctors/", {"clinic": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404


def test_the_catalogue_is_read_only(api_as, network_admin):
    response = api_as(network_admin).post("/api/v1/clinics/", {}, format="json")
    assert response.status_code == 405


def test_doctors_list_runs_in_a_fixed_number_of_queries(
    api, doctor, doctor_b, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/doctors/").json()) == 2
