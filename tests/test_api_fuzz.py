"""Property-based requests against the whole REST API from its own OpenAPI schema: whatever a
client sends, the answer is never a server error, and a refused request changes nothing
(DESIGN.md: bad input gets a clear 4xx and changes nothing).

schemathesis generates valid and invalid requests for every operation in `/api/schema/` and
sends them in-process through the WSGI application, as a signed-in patient and as a registrar.
Few examples per operation keep it quick; every run draws new ones.
"""

import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from knox.models import get_token_model
from schemathesis.checks import not_a_server_error

from config.wsgi import application

pytestmark = pytest.mark.django_db


# Django is set up before collection; generating the schema reads no data.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# What the API may answer: success, redirects, and the client errors DESIGN.md names.
ALLOWED_STATUSES = {
    200,
    201,
    202,
    204,
    301,
    302,
    304,
    400,
    401,
    403,
    404,
    405,
    406,
    409,
    410,
    413,
    415,
    422,
    429,
}
# Apps whose rows a refused request must leave as they were.
DOMAIN_APPS = ("portal", "scheduling", "crm", "notifications", "telephony", "analytics")


def row_counts() -> dict[str, int]:
    """How many rows each table of the domain apps holds, read in one statement."""
    tables = sorted(
        model._meta.db_table
        for label in DOMAIN_APPS
        for model in apps.get_app_config(label).get_models()
    )
    quote = connection.ops.quote_name
    counts = ", ".join(f"(SELECT count(*) FROM {quote(table)})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")  # noqa: S608 - table names from model metadata
        return dict(zip(tables, cursor.fetchone(), strict=True))


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
        before = row_counts()
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code in ALLOWED_STATUSES, (case.path, response.status_code)
        if response.status_code >= 400:
            changed = {
                k: (n, after) for k, after in row_counts().items() if (n := before[k]) != after
            }
            assert not changed, (case.method, case.path, response.status_code, changed)
