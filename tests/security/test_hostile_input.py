"""Hostile input never reaches a 500 (issue #11): oversized and deeply nested JSON, dates at the
ends of the calendar, impossible UTC offsets, NUL characters and bytes that are not UTF-8 in the
path, the query string, a JSON field or a form field. The API answers problem+json, FHIR an
OperationOutcome, pages a 400 page or a form error; an unhandled error is a bare 500 that is
logged with personal data scrubbed."""

import json
import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from portal.api.parsers import json_depth
from portal.logging import PiiScrubFilter
from portal.models import Patient
from scheduling.models import Appointment, Hold
from tests.conftest import client_for
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"


def assert_problem(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def assert_outcome(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def patient_api(patient):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(patient.user)
    return client


def booking(service, doctor, start: str) -> dict:
    return {"service": str(service.public_id), "doctor": str(doctor.public_id), "start": start}


# --- JSON bodies -------------------------------------------------------------------------------


def test_the_depth_is_counted_on_the_raw_bytes_ignoring_brackets_inside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}', stop_above=10) == 3
    assert json_depth(b'["\\"[[[", []]', stop_above=10) == 2
    assert json_depth(b"[" * 5000, stop_above=32) == 33


@pytest.mark.parametrize("url", ["/api/v1/appointments/", "/api/v1/auth/token/"])
def test_a_deeply_nested_json_body_is_a_problem_400(patient_api, url):
    response = patient_api.post(url, "[" * 5000 + "]" * 5000, content_type="application/json")
    body = assert_problem(response)
    assert "32" in body["errors"]["non_field_errors"][0]


def test_a_json_body_nested_within_the_limit_is_parsed(patient_api, settings):
    settings.JSON_MAX_DEPTH = 4
    nested = {"service": [[[1]]]}
    response = patient_api.post("/api/v1/appointments/", nested, format="json")
    # Parsed, then refused by the serializer for its content, not by the parser.
    assert "service" in assert_problem(response)["errors"]


def test_a_json_body_over_the_size_limit_is_a_problem_400(patient_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = json.dumps({"reason": "x" * 2000})
    response = patient_api.post("/api/v1/appointments/", big, content_type="application/json")
    assert "1024" in assert_problem(response)["detail"]
    response = patient_api.post("/fhir/R4/Appointment", big, content_type=FHIR)
    assert "1024" in assert_outcome(response)["diagnostics"]


def test_a_deeply_nested_fhir_body_is_an_operation_outcome_400(patient_api):
    response = patient_api.post("/fhir/R4/Appointment", "[" * 5000 + "]" * 5000, content_type=FHIR)
    assert assert_outcome(response)["code"] == "invalid"


def test_a_nul_in_any_json_string_is_a_400_and_changes_nothing(patient_api, service, doctor):
    body = booking(service, doctor, "2030-01-01T10:00:00+03:00")
    for poisoned in ({**body, "channel": "online\x00"}, {**body, "x\x00": 1}, [["\x00"]]):
        response = patient_api.post("/api/v1/appointments/", poisoned, format="json")
        assert "NUL" in assert_problem(response)["errors"]["non_field_errors"][0]
    assert not Appointment.objects.exists()


def test_a_json_body_that_is_not_utf8_is_a_400(patient_api):
    response = patient_api.post(
        "/api/v1/appointments/", b'{"service": "\xff\xfe"}', content_type="application/json"
    )
    assert_problem(response)


# --- Dates and times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "field_error"),
    [
        ("9999-12-31T23:59:59-14:00", "out of range"),
        ("0001-01-01T00:00:00+14:00", "out of range"),
        ("2030-03-02T10:00:00+23:00", "UTC offset"),
        ("2030-03-02T10:00:00-14:30", "UTC offset"),
    ],
)
def test_booking_times_off_the_calendar_or_with_impossible_offsets_are_400(
    patient_api, service, doctor, start, field_error
):
    for url in ("/api/v1/appointments/", "/api/v1/holds/"):
        response = patient_api.post(url, booking(service, doctor, start), format="json")
        assert field_error in " ".join(assert_problem(response)["errors"]["start"])
    assert not Appointment.objects.exists() and not Hold.objects.exists()


def test_a_booking_time_with_a_real_far_offset_is_not_refused_for_it(
    patient_api, service, doctor, clinic_a, tomorrow_a
):
    start = at(clinic_a, tomorrow_a, 10).astimezone(
        __import__("zoneinfo").ZoneInfo("Pacific/Kiritimati")
    )
    response = patient_api.post(
        "/api/v1/appointments/", booking(service, doctor, start.isoformat()), format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "value",
    [
        "ge0001-01-01",
        "le9999-12-31",
        "ge9999-12-31T23:00:00-14:00",
        "ge0001-01-01T00:00:00+14:00",
        "ge2030-01-01T00:00:00+23:59",
    ],
)
def test_fhir_date_searches_off_the_calendar_are_operation_outcomes_400(
    patient_api, service, value
):
    slots = patient_api.get("/fhir/R4/Slot", {"service-type": service.code, "start": value})
    visits = patient_api.get("/fhir/R4/Appointment", {"date": value})
    for response in (slots, visits):
        assert assert_outcome(response)["code"] == "invalid"


# --- Path, query string, cookies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/slots/?service=%00",
        "/api/v1/slots/?service=%ff%fe",
        "/api/v1/appointments/%00/",
        "/api/v1/appoint%ffments/",
        "/api/v1/calendar-feed/%00.ics",
    ],
)
def test_nul_or_broken_utf8_in_an_api_address_is_a_problem_400(patient_api, url):
    assert_problem(patient_api.get(url))


@pytest.mark.parametrize(
    "url", ["/fhir/R4/Slot?service-type=%00", "/fhir/R4/Patient/%00", "/fhir/R4/Slot/%c3%28"]
)
def test_nul_or_broken_utf8_in_a_fhir_address_is_an_operation_outcome_400(patient_api, url):
    assert assert_outcome(patient_api.get(url))["code"] == "invalid"


@pytest.mark.parametrize("url", ["/?q=%00", "/%00/", "/me/%ff/", "/accounts/login/?next=%c3"])
def test_nul_or_broken_utf8_in_a_page_address_is_the_400_page(url):
    response = Client().get(url, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"This request cannot be read" in response.content


def test_a_nul_in_a_cookie_is_a_400():
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00"
    assert client.get("/").status_code == 400


def test_valid_unicode_in_addresses_passes(patient_api, service):
    response = patient_api.get("/fhir/R4/Slot", {"service-type": "услуга"})
    assert assert_outcome(response, 404)["code"] == "not-found"
    assert Client().get("/?utm_source=%D0%BF%D0%BE%D0%B8%D1%81%D0%BA").status_code == 200


# --- HTML forms --------------------------------------------------------------------------------


def test_a_nul_in_the_staff_search_is_a_form_error(registrar_a):
    client = client_for(registrar_a)
    response = client.post("/staff/patients/", {"q": "+7914\x005551234"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"]
    assert response.context["results"] is None


def test_a_nul_or_a_date_off_the_calendar_in_a_profile_form_is_a_form_error(patient):
    client = client_for(patient.user)
    before = Patient.objects.get(pk=patient.pk).last_name
    form = {"last_name": "Ива\x00нова", "first_name": "Анна", "birth_date": "1990-01-01"}
    response = client.post("/me/edit/", form)
    assert response.status_code == 200 and response.context["form"].errors["last_name"]
    for birth_date in ("9999-12-31", "0001-01-01"):
        response = client.post(
            "/me/edit/", {**form, "last_name": "Иванова", "birth_date": birth_date}
        )
        assert response.status_code == 200 and response.context["form"].errors["birth_date"]
    assert Patient.objects.get(pk=patient.pk).last_name == before


def test_a_date_off_the_calendar_in_the_staff_search_is_a_form_error(registrar_a):
    response = client_for(registrar_a).post("/staff/patients/", {"q": "Иванов Иван 01.01.0001"})
    assert response.context["form"].errors["q"]


# --- Unhandled errors --------------------------------------------------------------------------


@pytest.fixture
def broken_catalogue(monkeypatch):
    """The clinic list fails with a message that quotes personal data."""

    def fail(*args, **kwargs):
        raise RuntimeError("lookup failed for anna@example.test +7 914 555-12-34")

    monkeypatch.setattr("scheduling.selectors.catalogue.public_clinics", fail)


def test_an_unhandled_api_error_is_a_bare_problem_500_and_is_logged(broken_catalogue, caplog):
    response = APIClient(raise_request_exception=False).get("/api/v1/clinics/")
    body = assert_problem(response, 500)
    assert "anna" not in response.content.decode() and "RuntimeError" not in body["detail"]
    (record,) = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert record.levelno == logging.ERROR


def test_an_unhandled_fhir_error_is_a_bare_operation_outcome_500(broken_catalogue):
    response = Client(raise_request_exception=False).get("/fhir/R4/Location")
    issue = assert_outcome(response, 500)
    assert issue["code"] == "exception" and "anna" not in issue["diagnostics"]


def test_an_unhandled_page_error_is_the_500_page(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("portal.views.pages.clinics_by_city", fail)
    response = Client(raise_request_exception=False).get("/", headers={"accept-language": "en"})
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"boom" not in response.content


def test_the_log_filter_scrubs_personal_data_from_tracebacks():
    try:
        raise RuntimeError("lookup failed for anna@example.test +7 914 555-12-34")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "Internal", None, sys.exc_info()
        )
    PiiScrubFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "RuntimeError" in text
    assert "anna@" not in text and "555-12-34" not in text


def test_an_empty_request_for_a_sign_in_code_is_a_form_error_not_a_500():
    # allauth's view read the user of a form that named neither e-mail nor phone.
    response = Client(raise_request_exception=False).post("/accounts/login/code/", {})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
