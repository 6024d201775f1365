"""The Content-Security-Policy holds in a real browser: pages load with no violation (Chromium
reports each one as a console error), htmx works without inline styles or eval, and the API
documentation pages render under their own, slightly wider policy."""

import pytest

from tests.conftest import client_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    """Console errors and uncaught page errors, as they happen."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in(page, live_server, user) -> None:
    """Hands the browser the session of a test client signed in as `user`."""
    session = client_for(user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/", "/no-such-page/"])
def test_public_pages_load_with_no_csp_violation(page, clinic_a, url):
    errors = watch_console(page)
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # htmx started (no eval, no inline style needed) and the stylesheet applied.
    assert (
        page.evaluate("typeof htmx !== 'undefined' && htmx.config.includeIndicatorStyles") is False
    )
    assert page.evaluate("getComputedStyle(document.body).display") == "flex"
    assert [e for e in errors if "404" not in e] == []


def test_the_staff_search_runs_through_htmx_under_the_policy(page, live_server, registrar_a):
    errors = watch_console(page)
    sign_in(page, live_server, registrar_a)
    page.goto("/staff/patients/")
    page.fill("#patient-q", "+7 914 555-12-34")
    page.keyboard.press("Enter")
    page.wait_for_selector("#patient-results p.empty")
    assert errors == []


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_api_documentation_renders_under_its_policy(page, url):
    errors = watch_console(page)
    page.goto(url)
    page.wait_for_selector("text=Medfront API", timeout=15000)
    page.wait_for_load_state("networkidle")
    violations = [e for e in errors if "Content Security Policy" in e]
    # Redoc asks for its logo on a CDN; the policy refuses it on purpose (no third parties).
    assert [v for v in violations if "cdn.redoc.ly" not in v] == []
