"""Rate limits (issue #11): anonymous slot and FHIR reads per client IP, the token endpoint per
IP, patient searches per staff member across the API and the search page. Over the rate the
answer is a 429 with Retry-After: problem+json, an OperationOutcome, or the page saying when to
try again. Counters live in the default cache, which is Redis in production."""

import os
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PHONE = {"phone": "+79145551234"}
SEARCH = "/api/v1/patients/search/"


@pytest.fixture
def rates(settings):
    """Small rates for the test; the others stay as configured."""

    def set_rates(**scopes):
        framework = dict(settings.REST_FRAMEWORK)
        framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = framework

    return set_rates


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def slots(client, service, **extra):
    return client.get("/api/v1/slots/", {"service": str(service.public_id)}, **extra)


def test_the_defaults_leave_room_for_a_clinic_widget_behind_one_nat(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    count, period = rates["slots_anon"].split("/")
    assert period.startswith("m") and int(count) >= 300
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT


def test_anonymous_slot_reads_are_limited_per_ip_with_a_problem_429(rates, service):
    rates(slots_anon="3/minute")
    client = APIClient()
    assert [slots(client, service).status_code for _ in range(3)] == [200] * 3
    response = slots(client, service)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:medfront:problem:too-many-requests"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address has its own count; a signed-in patient is not counted per IP.
    assert slots(client, service, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_signed_in_callers_are_not_held_to_the_anonymous_rate(rates, service, api_as, patient):
    rates(slots_anon="1/minute")
    client = api_as(patient.user)
    assert [slots(client, service).status_code for _ in range(3)] == [200] * 3


def test_a_forged_forwarded_for_does_not_reset_the_count_without_a_trusted_proxy(rates, service):
    rates(slots_anon="2/minute")
    client = APIClient()
    codes = [
        slots(client, service, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(rates, service, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(slots_anon="1/minute")
    client = APIClient()
    first = slots(client, service, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = slots(client, service, HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = slots(client, service, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


def test_anonymous_fhir_reads_are_limited_per_ip_with_an_operation_outcome(rates):
    rates(fhir_anon="2/minute")
    client = Client()
    assert [client.get("/fhir/R4/Location").status_code for _ in range(2)] == [200, 200]
    response = client.get("/fhir/R4/Practitioner")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response.json()["issue"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_the_token_endpoint_is_limited_per_ip_whatever_the_account(rates):
    rates(auth_token="2/minute")
    client = APIClient()
    for n in range(2):
        body = {"email": f"nobody{n}@example.test", "password": "wrong-password"}
        assert client.post("/api/v1/auth/token/", body, format="json").status_code == 401
    body = {"email": "someone-else@example.test", "password": "wrong-password"}
    response = client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_patient_searches_count_per_staff_member_across_the_api_and_the_page(
    rates, api_as, registrar_a, registrar_b
):
    rates(patient_search="3/minute")
    api = api_as(registrar_a)
    page = client_for(registrar_a)
    assert api.post(SEARCH, PHONE, format="json").status_code == 200
    assert page.post("/staff/patients/", {"q": PHONE["phone"]}).status_code == 200
    assert api.post(SEARCH, PHONE, format="json").status_code == 200
    # The fourth search, on either side, is refused and reads nothing.
    refused = api.post(SEARCH, PHONE, format="json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    page_refused = page.post("/staff/patients/", {"q": PHONE["phone"]})
    assert page_refused.status_code == 429 and int(page_refused["Retry-After"]) >= 1
    assert page_refused.context["results"] is None
    assert b"Too many searches in a short time" in page_refused.content
    assert PHONE["phone"].encode() in page_refused.content  # the typed query is kept
    # A colleague has a count of their own.
    assert api_as(registrar_b).post(SEARCH, PHONE, format="json").status_code == 200


def test_the_htmx_search_partial_answers_429_with_its_message(rates, registrar_a):
    rates(patient_search="1/minute")
    page = client_for(registrar_a)
    htmx = {"HX-Request": "true"}
    assert page.post("/staff/patients/", {"q": PHONE["phone"]}, headers=htmx).status_code == 200
    response = page.post("/staff/patients/", {"q": PHONE["phone"]}, headers=htmx)
    assert response.status_code == 429
    assert response.content.lstrip().startswith(b'<section id="patient-results"')
    assert b"Too many searches" in response.content


def test_opening_the_search_page_and_invalid_queries_are_not_counted(rates, registrar_a):
    rates(patient_search="1/minute")
    page = client_for(registrar_a)
    assert page.get("/staff/patients/").status_code == 200
    assert page.post("/staff/patients/", {"q": "Ivanov"}).status_code == 200  # incomplete
    assert page.post("/staff/patients/", {"q": PHONE["phone"]}).status_code == 200


def test_the_429_page_is_translated(rates, registrar_a):
    rates(patient_search="0/minute")
    page = client_for(registrar_a)
    page.cookies["django_language"] = "ru"
    response = page.post("/staff/patients/", {"q": PHONE["phone"]})
    assert response.status_code == 429
    assert "Слишком много поисков" in response.content.decode()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_counters_live_in_redis_when_it_is_configured(rates, settings, service):
    import redis

    prefix = f"medfront-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": prefix,
        }
    }
    rates(slots_anon="2/minute")
    try:
        assert [slots(APIClient(), service).status_code for _ in range(3)] == [200, 200, 429]
        # Any process that shares the store sees the same count.
        assert len(cache.get("throttle_slots_anon_127.0.0.1")) == 2
    finally:
        # Only this test's keys: cache.clear() would empty the Redis database under the other
        # xdist workers' tests.
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
