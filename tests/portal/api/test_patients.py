"""Staff patient search (exact, audited, in the body), card and create (with duplicate
warnings)."""

import pytest

from portal.choices import AuditAction
from portal.models import AuditEvent, IdempotencyRecord, Patient
from tests.factories import FamilyLinkFactory, PatientFactory
from tests.portal.api.test_problems import assert_problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/patients/"
SEARCH = "/api/v1/patients/search/"


@pytest.fixture
def known(db):
    return PatientFactory(
        last_name="Петров",
        first_name="Пётр",
        phone="+79145551234",
        email="petrov@example.test",
        id_document_type="passport_ru",
        id_document_number="2512 654321",
    )


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "8 914 555-12-34"},
        {"email": "PETROV@example.test"},
        {"q": "1234 петров"},
        {"document": "2512-654321"},
    ],
)
def test_a_registrar_finds_a_patient_exactly(api_as, registrar_a, known, query):
    response = api_as(registrar_a).post(SEARCH, query, format="json")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [str(known.public_id)]
    assert response.json()[0]["phone"] == "+79145551234"
    assert "no-store" in response["Cache-Control"]


def test_search_by_name_needs_the_birth_date(api_as, registrar_a, known):
    response = api_as(registrar_a).post(SEARCH, {"name": "Петров Пётр"}, format="json")
    assert response.status_code == 400
    assert "birth_date" in response.json()["errors"]
    found = api_as(registrar_a).post(
        SEARCH,
        {"name": "Петров Пётр", "birth_date": known.birth_date.isoformat()},
        format="json",
    )
    assert [p["id"] for p in found.json()] == [str(known.public_id)]


def test_a_search_is_audited(api_as, registrar_a, known):
    api_as(registrar_a).post(SEARCH, {"phone": "+79145551234"}, format="json")
    event = AuditEvent.objects.get(action="search")
    assert event.actor_id == registrar_a.pk
    assert event.patient_ids == [str(known.public_id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"q": "Petrov"}, "q"),
        ({}, "non_field_errors"),
        ({"phone": "+79145551234", "email": "a@b.c"}, "non_field_errors"),
        ({"name": "A B", "birth_date": "31.12.1990"}, "birth_date"),
    ],
)
def test_bad_searches_are_400_with_the_field(api_as, registrar_a, query, field):
    response = api_as(registrar_a).post(SEARCH, query, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("persona", ["patient", "marketer", "director"])
def test_roles_without_search_get_403(request, api_as, persona):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    assert api_as(user).post(SEARCH, {"phone": "+79145551234"}, format="json").status_code == 403
    assert api_as(user).get(URL, {"phone": "+79145551234"}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_anonymous_gets_401(api):
    assert api.post(SEARCH, {"phone": "+79145551234"}, format="json").status_code == 401
    assert api.get(URL, {"phone": "+79145551234"}).status_code == 401
    assert api.post(URL, {"last_name": "X", "first_name": "Y"}, format="json").status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "+79145551234"},
        {"email": "petrov@example.test"},
        {"name": "Петров Пётр", "birth_date": "1980-01-02"},
        {"q": "1234 Петров"},
        {},
    ],
)
@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "network_admin"])
def test_a_search_in_the_url_is_refused_with_400_saying_so(request, api_as, known, persona, query):
    user = request.getfixturevalue(persona)
    response = api_as(user).get(URL, query)
    body = assert_problem(response, 400)
    assert body["type"] == "urn:medfront:problem:search-in-url"
    assert "POST /api/v1/patients/search/" in body["detail"]
    assert not AuditEvent.objects.exists()


def test_the_refusal_is_translated(api_as, registrar_a):
    response = api_as(registrar_a).get(URL, {"phone": "+79145551234"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "POST /api/v1/patients/search/" in response.json()["detail"]
    assert "адрес" in response.json()["detail"]


# --- Card --------------------------------------------------------------------------------------


def card_url(patient) -> str:
    return f"{URL}{patient.public_id}/"


@pytest.fixture
def family(patient, dependant):
    """The patient of the personas (with their child) and a grandmother who represents her."""
    grandmother = PatientFactory(last_name="Иванова", first_name="Зоя")
    FamilyLinkFactory(guardian=grandmother, dependant=patient)
    return {"patient": patient, "dependant": dependant, "guardian": grandmother}


@pytest.mark.parametrize("persona", ["registrar_a", "doctor_a", "head_nurse_a", "network_admin"])
def test_the_card_lists_the_family_and_its_audit_names_everyone_shown(
    request, api_as, family, persona
):
    user = request.getfixturevalue(persona)
    response = api_as(user).get(card_url(family["patient"]))
    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["id"] == str(family["patient"].public_id)
    assert body["patient"]["last_name"] == "Иванова"
    assert [g["guardian"]["id"] for g in body["guardians"]] == [str(family["guardian"].public_id)]
    assert [d["dependant"]["id"] for d in body["dependants"]] == [
        str(family["dependant"].public_id)
    ]
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id) == (AuditAction.VIEW, user.pk)
    assert event.object_id == str(family["patient"].public_id)
    assert sorted(event.patient_ids) == sorted(str(p.public_id) for p in family.values())


@pytest.mark.parametrize("persona", ["marketer", "director"])
def test_staff_without_the_card_capability_get_403(request, api_as, family, persona):
    user = request.getfixturevalue(persona)
    assert_problem(api_as(user).get(card_url(family["patient"])), 403)
    assert not AuditEvent.objects.exists()


def test_a_patient_gets_404_for_someone_elses_card_and_403_for_their_own(
    api_as, family, other_patient
):
    client = api_as(family["patient"].user)
    assert_problem(client.get(card_url(other_patient)), 404)
    assert_problem(client.get(card_url(family["patient"])), 403)
    assert not AuditEvent.objects.exists()


def test_an_unknown_card_is_404_and_anonymous_401(api, api_as, registrar_a, family):
    unknown = "/api/v1/patients/00000000-0000-4000-8000-000000000000/"
    assert_problem(api_as(registrar_a).get(unknown), 404)
    assert_problem(api.get(card_url(family["patient"])), 401)
    assert not AuditEvent.objects.exists()


NEW = {
    "last_name": "Сидорова",
    "first_name": "Мария",
    "birth_date": "1990-05-01",
    "phone": "8 (914) 777-00-11",
    "email": "maria@example.test",
    "sex": "female",
}


def test_a_registrar_creates_a_patient_in_their_clinic(api_as, registrar_a, clinic_a):
    response = api_as(registrar_a).post(URL, NEW, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == "+79147770011"
    assert body["home_clinic"] == str(clinic_a.public_id)
    assert body["duplicates"] == []
    assert Patient.objects.get(public_id=body["id"]).created_by == registrar_a


def test_a_likely_duplicate_is_refused_until_confirmed(api_as, registrar_a, known):
    client = api_as(registrar_a)
    data = {**NEW, "phone": "+79145551234"}
    refused = client.post(URL, data, format="json")
    assert refused.status_code == 409
    assert [d["id"] for d in refused.json()["duplicates"]] == [str(known.public_id)]
    assert Patient.objects.count() == 1
    created = client.post(URL, {**data, "confirm_duplicates": True}, format="json")
    assert created.status_code == 201
    assert [d["id"] for d in created.json()["duplicates"]] == [str(known.public_id)]


def test_invalid_values_are_400_per_field_and_change_nothing(api_as, registrar_a):
    data = {**NEW, "phone": "123", "birth_date": "2999-01-01", "snils": "1"}
    response = api_as(registrar_a).post(URL, data, format="json")
    assert response.status_code == 400
    assert {"phone", "birth_date", "snils"} <= set(response.json()["errors"])
    assert not Patient.objects.exists()


def test_a_home_clinic_elsewhere_is_refused(api_as, registrar_a, clinic_b):
    data = {**NEW, "home_clinic": str(clinic_b.public_id)}
    response = api_as(registrar_a).post(URL, data, format="json")
    assert response.status_code == 400
    assert "home_clinic" in response.json()["errors"]


@pytest.mark.parametrize("persona", ["doctor_a", "head_nurse_a", "marketer"])
def test_roles_without_create_get_403(request, api_as, persona):
    user = request.getfixturevalue(persona)
    assert api_as(user).post(URL, NEW, format="json").status_code == 403
    assert not Patient.objects.exists()


def test_a_patient_cannot_create_patients(api_as, patient):
    assert api_as(patient.user).post(URL, NEW, format="json").status_code == 403


class TestIdempotency:
    def test_a_replay_returns_the_first_answer_and_creates_once(self, api_as, registrar_a):
        client = api_as(registrar_a)
        first = client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Patient.objects.count() == 1

    def test_the_same_key_with_another_body_is_422(self, api_as, registrar_a):
        client = api_as(registrar_a)
        client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        other = client.post(
            URL, {**NEW, "first_name": "Ольга"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
        )
        assert other.status_code == 422
        assert other.json()["type"] == "urn:medfront:problem:idempotency-key-reused"
        assert Patient.objects.count() == 1

    def test_a_replay_while_the_first_is_running_is_409(self, api_as, registrar_a):
        from django.utils import timezone

        from portal.api.idempotency import IDEMPOTENCY_TTL, key_digest, request_fingerprint

        IdempotencyRecord.objects.create(
            user_id=registrar_a.pk,
            route=URL,
            key_digest=key_digest("k-3"),
            request_hash=request_fingerprint(NEW),
            expires_at=timezone.now() + IDEMPOTENCY_TTL,
        )
        response = api_as(registrar_a).post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert response.status_code == 409
        assert not Patient.objects.exists()

    def test_keys_are_scoped_per_user(self, api_as, registrar_a, clinic_a):
        from portal.choices import Role
        from tests.factories import make_staff

        other = make_staff(Role.REGISTRAR, clinic_a)
        api_as(registrar_a).post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
        response = api_as(other).post(
            URL, {**NEW, "confirm_duplicates": True}, format="json", HTTP_IDEMPOTENCY_KEY="k-4"
        )
        assert response.status_code == 201
        assert Patient.objects.count() == 2

    def test_a_failed_request_keeps_no_record_so_the_key_can_be_retried(self, api_as, registrar_a):
        client = api_as(registrar_a)
        bad = client.post(URL, {**NEW, "phone": "1"}, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
        assert bad.status_code == 400
        assert not IdempotencyRecord.objects.exists()
        good = client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
        assert good.status_code == 201

    def test_an_expired_record_is_purged_and_the_key_reusable(self, api_as, registrar_a):
        import datetime

        from django.utils import timezone

        from portal.api.idempotency import idempotency_purge_expired

        client = api_as(registrar_a)
        client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-6")
        IdempotencyRecord.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
        assert idempotency_purge_expired() == 1
        assert not IdempotencyRecord.objects.exists()

    def test_the_record_keeps_no_key_body_or_answer_in_clear(self, api_as, registrar_a):
        from django.db import connection

        key = "create Тимофеева 1990-05-06"
        first = api_as(registrar_a).post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == 201
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT route, key_digest, request_hash, response_body"
                " FROM portal_idempotencyrecord"
            )
            row = cursor.fetchone()
        raw = " ".join(str(value) for value in row)
        needles = ("Тимофеева", "1990-05-06", "Сидорова", "Мария", "1990-05-01", "9147770011")
        needles += ("maria@example.test",)
        for needle in needles:
            assert needle not in raw
        assert len(row[1]) == len(row[2]) == 64
        assert IdempotencyRecord.objects.get().response_body == first.json()

    def test_an_over_long_key_is_400(self, api_as, registrar_a):
        response = api_as(registrar_a).post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
        assert response.status_code == 400
        assert not Patient.objects.exists()


def test_showing_possible_duplicates_is_audited(api_as, registrar_a, patient):
    client = api_as(registrar_a)
    body = {"last_name": "Петров", "first_name": "Пётр", "phone": patient.phone}
    response = client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 409
    event = AuditEvent.objects.filter(action="search", actor_id=registrar_a.pk).latest("id")
    assert event.patient_ids == [str(patient.public_id)]
