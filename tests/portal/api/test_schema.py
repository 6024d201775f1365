"""The OpenAPI schema generates without warnings, validates, and its docs need no CDN."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(target), skip_checks=True
    )
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/auth/tokens/",
        "/api/v1/auth/tokens/{public_id}/",
        "/api/v1/me/",
        "/api/v1/patients/",
        "/api/v1/patients/search/",
        "/api/v1/patients/{public_id}/",
        "/api/v1/slots/",
        "/api/v1/holds/",
        "/api/v1/appointments/",
        "/api/v1/appointments/{public_id}/reschedule/",
        "/api/v1/calendar-feed/",
    ]:
        assert path in paths, path
    # Patient search has no query parameters: its criteria go in the body.
    assert "parameters" not in paths["/api/v1/patients/"]["get"]
    assert "requestBody" in paths["/api/v1/patients/search/"]["post"]
    problem = paths["/api/v1/appointments/"]["post"]["responses"]["409"]["content"]
    assert "application/problem+json" in problem
    token = paths["/api/v1/auth/token/"]
    assert set(token) >= {"post", "delete"}
    assert not token["post"].get("security")
    assert token["delete"]["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]
    assert "429" in token["post"]["responses"]
    assert "404" in paths["/api/v1/auth/tokens/{public_id}/"]["delete"]["responses"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }


def test_the_schema_is_served(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Medfront API"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_their_scripts_from_this_site(api, path):
    response = api.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_redoc_forbids_its_bundles_logo_from_the_redocly_cdn(api):
    # The Redoc bundle hard-codes an <img> from cdn.redoc.ly; only a policy can stop it.
    # The page's Content-Security-Policy header (django-csp) allows images from us only.
    response = api.get("/api/redoc/")
    assert "img-src 'self' data:;" in response["Content-Security-Policy"]
    assert "redoc.ly" not in response["Content-Security-Policy"]
