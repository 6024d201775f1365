"""The 403, 404, 500 and CSRF pages: translated, in the site's layout, and the 500 page rendered
without anything that may have failed (database, session, context processors)."""

import pytest
from django.test import Client

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading"), [("ru", "Страница не найдена"), ("en", "Page not found")]
)
def test_the_404_page_is_translated(language, heading):
    html = page(Client().get("/no-such-page/", headers={"accept-language": language}), 404)
    assert heading in html and 'class="site-header"' in html


def test_the_404_and_403_pages_keep_the_navigation(patient, marketer):
    html = page(
        client_for(patient.user).get("/me/family/00000000-0000-0000-0000-000000000000/"), 404
    )
    assert 'class="main-nav"' in html
    html = page(
        client_for(marketer).get("/staff/patients/", headers={"accept-language": "en"}), 403
    )
    assert "You do not have access to this page" in html and 'class="main-nav"' in html


def test_the_500_page_needs_no_context_processor(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("portal.views.pages.clinics_by_city", fail)
    # The navigation would query the database again: the 500 page must not call it.
    monkeypatch.setattr("portal.context_processors.navigation_for", fail)
    client = Client(raise_request_exception=False)
    html = page(client.get("/", headers={"accept-language": "en"}), 500)
    assert "Something went wrong on our side" in html
    assert "database unavailable" not in html and "csrfmiddlewaretoken" not in html


def test_a_form_without_its_csrf_token_gets_the_csrf_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/", {"login": "a@b.c"}, headers={"accept-language": "en"}
    )
    assert "The form has expired" in page(response, 403)


def test_api_and_fhir_errors_outside_drf_views_are_machine_readable():
    client = Client(enforce_csrf_checks=True)
    api = client.post("/api/v1/no-such-endpoint/")
    assert api.status_code in (403, 404)
    assert api["Content-Type"].startswith("application/problem+json")
    fhir = client.post("/fhir/R4/NoSuchType")
    assert fhir["Content-Type"].startswith("application/fhir+json")
