"""Every 4xx under /api/ is RFC 9457 problem+json with a human detail."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.exceptions import Throttled

from portal.api.exceptions import (
    PROBLEM_CONTENT_TYPE,
    flatten_errors,
    problem_exception_handler,
    register_domain_error,
)

pytestmark = pytest.mark.django_db


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:medfront:problem:")
    assert body["title"]
    assert body["detail"]
    return body


def test_an_unknown_api_address_is_a_problem_404(api):
    body = assert_problem(api.get("/api/v1/no-such-thing/"), 404)
    assert body["instance"] == "/api/v1/no-such-thing/"


def test_a_wrong_method_is_a_problem_405(api):
    assert_problem(api.patch("/api/v1/slots/", {}, format="json"), 405)


def test_anonymous_on_a_private_endpoint_is_a_problem_401(api):
    response = api.get("/api/v1/me/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_role_is_a_problem_403(api_as, patient):
    assert_problem(api_as(patient.user).get("/api/v1/patients/", {"phone": "+79140000000"}), 403)


def test_malformed_json_is_a_problem_400_with_errors(api):
    response = api.post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    body = assert_problem(response, 400)
    assert "non_field_errors" in body["errors"]


def test_a_missing_field_is_a_problem_400_naming_it(api):
    body = assert_problem(api.post("/api/v1/auth/token/", {"email": "x@y.z"}, format="json"), 400)
    assert list(body["errors"]) == ["password"]
    assert "password" in body["detail"]


def test_a_form_body_is_a_problem_415(api):
    response = api.post("/api/v1/auth/token/", "email=a", content_type="text/plain")
    assert_problem(response, 415)


def test_django_validation_errors_become_per_field_errors():
    response = problem_exception_handler(
        ValidationError({"__all__": ["Both"], "phone": ["Bad phone"]}), {}
    )
    assert response.status_code == 400
    assert response.data["errors"] == {"non_field_errors": ["Both"], "phone": ["Bad phone"]}


def test_http404_becomes_a_problem():
    response = problem_exception_handler(Http404("secret detail"), {})
    assert response.status_code == 404
    assert "secret" not in response.data["detail"]


def test_a_throttled_request_is_told_when_to_retry():
    response = problem_exception_handler(Throttled(wait=30), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert problem_exception_handler(Throttled(), {}).has_header("Retry-After") is False


class _Taken(Exception):
    http_status = 409
    code = "slot_taken"


class _Rule(_Taken):
    http_status = 422
    code = "quota_exceeded"


def test_registered_domain_errors_take_their_status_and_code_from_the_error():
    register_domain_error(_Taken)
    taken = problem_exception_handler(_Taken("Someone was faster."), {})
    assert (taken.status_code, taken.data["type"]) == (409, "urn:medfront:problem:slot-taken")
    assert taken.data["detail"] == "Someone was faster."
    rule = problem_exception_handler(_Rule("No quota left."), {})
    assert (rule.status_code, rule.data["type"]) == (422, "urn:medfront:problem:quota-exceeded")


def test_nested_errors_are_flattened_with_dotted_names():
    assert flatten_errors({"a": {"b": ["x"]}, "c": [{}, {"d": ["y"]}]}) == {
        "a.b": ["x"],
        "c.1.d": ["y"],
    }


def test_unknown_exceptions_are_left_to_django():
    assert problem_exception_handler(RuntimeError("boom"), {}) is None
