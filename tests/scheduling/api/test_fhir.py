"""FHIR R4 facade: resources validate with fhir.resources (R4B models), Slot search by start
range, Appointment POST books through the engine, errors are OperationOutcomes."""

import datetime

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from scheduling.fhir.ids import parse_fhir_slot_id
from scheduling.models import Appointment
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
BASE = "/fhir/R4"
FHIR_JSON = "application/fhir+json"


def fhir(response, status=200):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    return response.json()


def entries(bundle: dict) -> list[dict]:
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    return [e["resource"] for e in bundle.get("entry", [])]


def slot_bundle(api, service, day_from, day_to, **params):
    query = {
        "service-type": service.code,
        "start": [f"ge{day_from.isoformat()}", f"lt{day_to.isoformat()}"],
        **params,
    }
    return entries(fhir(api.get(f"{BASE}/Slot", query)))


def test_metadata_is_a_valid_capability_statement(api):
    body = fhir(api.get(f"{BASE}/metadata"))
    statement = CapabilityStatement.model_validate(body)
    types = {res.type for res in statement.rest[0].resource}
    assert {"Slot", "Appointment", "Schedule", "Patient", "Location"} <= types


def test_catalogue_resources_validate_and_read_back(api, doctor, doctor_b, service, clinic_a):
    for path, model, count in [
        ("Practitioner", Practitioner, 2),
        ("HealthcareService", HealthcareService, 1),
        ("Location", Location, 2),
        ("Schedule", Schedule, 2),
    ]:
        found = entries(fhir(api.get(f"{BASE}/{path}")))
        assert len(found) == count, path
        for resource in found:
            model.model_validate(resource)
            again = fhir(api.get(f"{BASE}/{path}/{resource['id']}"))
            assert again == resource
    location = fhir(api.get(f"{BASE}/Location/{clinic_a.public_id}"))
    assert location["extension"][0]["valueCode"] == "Asia/Irkutsk"


def test_unknown_ids_and_addresses_are_operation_outcome_404(api, doctor):
    for path in ["Practitioner/nope", "Schedule/AAAA", "Slot/xyz", "Location/" + "0" * 32, "Nope"]:
        body = fhir(api.get(f"{BASE}/{path}"), 404)
        OperationOutcome.model_validate(body)
        assert body["issue"][0]["code"] == "not-found"


def test_slot_search_by_schedule_and_start_range(
    api, service, doctor, doctor_b, clinic_a, tomorrow_a
):
    schedules = entries(
        fhir(api.get(f"{BASE}/Schedule", {"actor": f"Practitioner/{doctor.public_id}"}))
    )
    assert len(schedules) == 1
    schedule_id = schedules[0]["id"]
    day_after = tomorrow_a + datetime.timedelta(days=1)
    slots = slot_bundle(api, service, tomorrow_a, day_after, schedule=f"Schedule/{schedule_id}")
    assert len(slots) == 8
    for resource in slots:
        Slot.model_validate(resource)
        assert resource["status"] == "free"
        assert resource["schedule"]["reference"] == f"Schedule/{schedule_id}"
        assert resource["start"].endswith("+08:00")
        assert len(resource["id"]) <= 64
    assert slots[0]["start"] == f"{tomorrow_a}T09:00:00+08:00"
    # The same slot keeps the same id, and reads back while free.
    again = slot_bundle(api, service, tomorrow_a, day_after, schedule=schedule_id)
    assert [s["id"] for s in again] == [s["id"] for s in slots]
    assert fhir(api.get(f"{BASE}/Slot/{slots[0]['id']}")) == slots[0]


def test_slot_search_with_datetime_bounds(api, service, doctor, clinic_a, tomorrow_a):
    lo = at(clinic_a, tomorrow_a, 10).isoformat()
    hi = at(clinic_a, tomorrow_a, 11).isoformat()
    slots = entries(
        fhir(
            api.get(f"{BASE}/Slot", {"service-type": service.code, "start": [f"ge{lo}", f"lt{hi}"]})
        )
    )
    assert [s["start"] for s in slots] == [lo, at(clinic_a, tomorrow_a, 10, 30).isoformat()]


def test_slot_search_refuses_bad_input(api, service, doctor, tomorrow_a):
    bad = fhir(
        api.get(f"{BASE}/Slot", {"service-type": service.code, "start": "ge01.02.2026"}), 400
    )
    assert bad["issue"][0]["code"] == "invalid"
    assert fhir(api.get(f"{BASE}/Slot"), 400)["issue"][0]["code"] == "invalid"
    far = tomorrow_a + datetime.timedelta(days=90)
    fhir(
        api.get(
            f"{BASE}/Slot", {"service-type": service.code, "start": [f"ge{tomorrow_a}", f"lt{far}"]}
        ),
        400,
    )
    assert fhir(api.get(f"{BASE}/Slot", {"service-type": "nope"}), 404)


def test_busy_slots_are_not_published(api, service, doctor, tomorrow_a):
    day_after = tomorrow_a + datetime.timedelta(days=1)
    assert slot_bundle(api, service, tomorrow_a, day_after, status="busy") == []


def test_patient_is_the_caller_only(api, api_as, patient, other_patient):
    mine = entries(fhir(api_as(patient.user).get(f"{BASE}/Patient")))
    assert [p["id"] for p in mine] == [str(patient.public_id)]
    FhirPatient.model_validate(mine[0])
    fhir(api_as(patient.user).get(f"{BASE}/Patient/{other_patient.public_id}"), 404)
    body = fhir(api.get(f"{BASE}/Patient"), 401)
    assert body["issue"][0]["code"] == "login"


def _book_body(slot_id, patient=None):
    participant = (
        [{"actor": {"reference": f"Patient/{patient.public_id}"}, "status": "accepted"}]
        if patient
        else [{"actor": {"display": "me"}, "status": "accepted"}]
    )
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": participant,
    }


@pytest.fixture
def free_slot(api, service, doctor, tomorrow_a):
    return slot_bundle(api, service, tomorrow_a, tomorrow_a + datetime.timedelta(days=1))[0]


def test_a_patient_books_a_free_slot_and_a_taken_one_is_409(
    api_as, patient, other_patient, free_slot
):
    client = api_as(patient.user)
    response = client.post(f"{BASE}/Appointment", _book_body(free_slot["id"]), format="json")
    body = fhir(response, 201)
    FhirAppointment.model_validate(body)
    assert body["status"] == "booked"
    assert body["start"] == free_slot["start"]
    assert body["participant"][0]["actor"]["reference"] == f"Patient/{patient.public_id}"
    assert response["Location"].endswith(f"/Appointment/{body['id']}")
    assert Appointment.objects.get().patient == patient
    # The slot is gone now: reading it is 404, booking it again is 409 with an OperationOutcome.
    fhir(api_as(patient.user).get(f"{BASE}/Slot/{free_slot['id']}"), 404)
    taken = api_as(other_patient.user).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"]), format="json"
    )
    outcome = fhir(taken, 409)
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["code"] == "conflict"
    assert Appointment.objects.count() == 1


def test_fhir_json_content_type_is_accepted(api_as, patient, free_slot):
    import json

    response = api_as(patient.user).post(
        f"{BASE}/Appointment", json.dumps(_book_body(free_slot["id"])), content_type=FHIR_JSON
    )
    fhir(response, 201)


def test_staff_book_for_the_patient_they_name(
    api_as, registrar_a, registrar_b, other_patient, free_slot
):
    refused = api_as(registrar_b).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
    )
    fhir(refused, 403)
    booked = api_as(registrar_a).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
    )
    body = fhir(booked, 201)
    assert body["participant"][0]["actor"]["reference"] == f"Patient/{other_patient.public_id}"
    assert Appointment.objects.get().channel == "phone"


def test_a_patient_cannot_book_for_a_stranger(api_as, patient, other_patient, free_slot):
    response = api_as(patient.user).post(
        f"{BASE}/Appointment", _book_body(free_slot["id"], other_patient), format="json"
    )
    fhir(response, 404)
    assert not Appointment.objects.exists()


def test_invalid_appointment_bodies_are_400(api_as, patient, free_slot):
    client = api_as(patient.user)
    fhir(client.post(f"{BASE}/Appointment", {"resourceType": "Patient"}, format="json"), 400)
    fhir(
        client.post(
            f"{BASE}/Appointment",
            {"resourceType": "Appointment", "status": "bogus", "participant": []},
            format="json",
        ),
        400,
    )
    no_slot = {
        "resourceType": "Appointment",
        "status": "booked",
        "participant": [{"status": "accepted", "actor": {"display": "x"}}],
    }
    fhir(client.post(f"{BASE}/Appointment", no_slot, format="json"), 400)
    forged = free_slot["id"][:-2] + ("AA" if not free_slot["id"].endswith("AA") else "BB")
    fhir(client.post(f"{BASE}/Appointment", _book_body(forged), format="json"), 404)
    assert not Appointment.objects.exists()


def test_appointment_read_and_search_are_scoped(
    api, api_as, patient, other_patient, registrar_a, registrar_b, free_slot
):
    created = fhir(
        api_as(patient.user).post(
            f"{BASE}/Appointment", _book_body(free_slot["id"]), format="json"
        ),
        201,
    )
    url = f"{BASE}/Appointment/{created['id']}"
    assert fhir(api_as(patient.user).get(url))["id"] == created["id"]
    assert fhir(api_as(registrar_a).get(url))["id"] == created["id"]
    fhir(api_as(other_patient.user).get(url), 404)
    fhir(api_as(registrar_b).get(url), 404)
    fhir(api.get(url), 401)
    mine = entries(fhir(api_as(patient.user).get(f"{BASE}/Appointment", {"status": "booked"})))
    assert [a["id"] for a in mine] == [created["id"]]
    for resource in mine:
        FhirAppointment.model_validate(resource)
    assert entries(fhir(api_as(other_patient.user).get(f"{BASE}/Appointment"))) == []
    assert (
        entries(fhir(api_as(patient.user).get(f"{BASE}/Appointment", {"status": "cancelled"})))
        == []
    )


def test_slot_ids_are_opaque_and_tamper_evident(free_slot, doctor, service):
    ref = parse_fhir_slot_id(free_slot["id"])
    assert ref.doctor_public_id == doctor.public_id
    assert ref.service_public_id == service.public_id
    assert str(doctor.public_id) not in free_slot["id"]


def test_fhir_endpoints_are_not_in_the_openapi_schema(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not any(path.startswith("/fhir") for path in schema["paths"])


def test_appointment_search_by_date_finds_old_visits_behind_many_newer_ones(
    api_as, patient, registrar_a, clinic_a, doctor, service
):
    """A busy clinic: the date bounds narrow the search in the database, so a visit long ago
    is found however many later visits there are."""
    first = datetime.datetime(2026, 1, 12, 9, 0, tzinfo=clinic_a.tz)

    def visit(start):
        return Appointment(
            patient=patient,
            doctor=doctor,
            clinic=clinic_a,
            service=service,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=30),
            status="completed",
            channel="phone",
            price=service.price,
            created_at=start,
            updated_at=start,
        )

    Appointment.objects.bulk_create(
        [visit(first)]
        + [
            visit(first + datetime.timedelta(days=1 + n // 10, minutes=30 * (n % 10)))
            for n in range(450)
        ]
    )
    found = entries(fhir(api_as(registrar_a).get(f"{BASE}/Appointment", {"date": "2026-01-12"})))
    assert len(found) == 1
    assert found[0]["start"].startswith("2026-01-12T09:00:00")
    window = entries(
        fhir(
            api_as(registrar_a).get(
                f"{BASE}/Appointment",
                {"date": ["ge2026-01-13T09:00:00+08:00", "lt2026-01-13T10:00:00+08:00"]},
            )
        )
    )
    assert [a["start"][:19] for a in window] == ["2026-01-13T09:30:00", "2026-01-13T09:00:00"]
