"""Property-based requests against the whole REST API from its own OpenAPI schema: whatever a
client sends, the answer is never a server error (DESIGN.md: bad input gets a clear 4xx).

schemathesis generates valid and invalid requests for every operation in `/api/schema/` and
sends them in-process through the WSGI application, as a signed-in patient and as a registrar.
Few examples per operation keep it quick; every run draws new ones.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import get_token_model
from schemathesis.checks import not_a_server_error

from config.wsgi import application

pytestmark = pytest.mark.django_db


# Django is set up before collection; generating the schema reads no data.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the WSGI handler itself, whose request signals close database
    connections; Django's test client unhooks that handler too, or the test's transaction
    would be closed under it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(patient, registrar_a) -> list[str]:
    return [get_token_model().objects.create(user)[1] for user in (patient.user, registrar_a)]


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_api_fail(case, tokens):
    for token in tokens:
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=[not_a_server_error])
