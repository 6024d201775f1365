"""GET /api/v1/me/: the caller and, for patients, their dependants, with ids."""

import datetime

import pytest

from tests.factories import FamilyLinkFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_a_patient_sees_themself_and_their_dependants(api_as, patient, dependant):
    body = api_as(patient.user).get("/api/v1/me/").json()
    assert body["roles"] == ["patient"]
    assert body["patient"]["id"] == str(patient.public_id)
    assert body["patient"]["last_name"] == "Иванова"
    assert [d["id"] for d in body["dependants"]] == [str(dependant.public_id)]
    assert body["dependants"][0]["relation"] == "child"


def test_an_expired_family_link_is_not_listed(api_as, patient):
    old = PatientFactory()
    FamilyLinkFactory(guardian=patient, dependant=old, valid_until=datetime.date(2000, 1, 1))
    body = api_as(patient.user).get("/api/v1/me/").json()
    assert str(old.public_id) not in [d["id"] for d in body["dependants"]]


def test_staff_see_their_roles_and_clinics(api_as, registrar_a, clinic_a):
    body = api_as(registrar_a).get("/api/v1/me/").json()
    assert body["patient"] is None
    assert body["dependants"] == []
    assert body["roles"] == ["registrar"]
    assert body["memberships"] == [{"role": "registrar", "clinic": str(clinic_a.public_id)}]


def test_network_wide_staff_have_no_clinic(api_as, director):
    body = api_as(director).get("/api/v1/me/").json()
    assert body["memberships"] == [{"role": "director", "clinic": None}]


def test_anonymous_gets_401(api):
    assert api.get("/api/v1/me/").status_code == 401


def test_me_runs_in_a_fixed_number_of_queries(api_as, patient, django_assert_max_num_queries):
    FamilyLinkFactory(guardian=patient)
    client = api_as(patient.user)
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/me/").status_code == 200
