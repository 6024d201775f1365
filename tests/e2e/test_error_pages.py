"""The 400, 403, 404, 500 and CSRF pages: the site's layout and navigation, in Russian and
English, readable on a phone and on a desktop (screenshots in E2E_SCREENSHOTS)."""

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import sign_in, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.fixture(params=["ru", "en"])
def language(request):
    return request.param


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser, live_server, language):
    context = browser.new_context(
        base_url=live_server.url,
        locale=language,
        viewport={"width": WIDTHS[request.param], "height": 800},
    )
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


HEADINGS = {
    "404": {"ru": "Страница не найдена", "en": "Page not found"},
    "403": {"ru": "У вас нет доступа к этой странице", "en": "You do not have access to this page"},
    "500": {"ru": "На нашей стороне что-то пошло не так", "en": "Something went wrong on our side"},
    "400": {"ru": "Этот запрос невозможно прочитать", "en": "This request cannot be read"},
    "csrf": {"ru": "Форма устарела", "en": "The form has expired"},
}


def check(page, kind: str, language: str, status: int, response) -> None:
    assert response.status == status
    assert page.locator("h1").inner_text() == HEADINGS[kind][language]
    assert page.locator("header.site-header .brand").is_visible()
    # Nothing runs off the side of a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"error-{kind}-{language}-{page.width_name}")


def test_the_404_page_keeps_the_navigation_of_a_signed_in_patient(
    sized_page, live_server, language, patient
):
    sign_in(sized_page, live_server, patient.user)
    response = sized_page.goto("/me/family/00000000-0000-0000-0000-000000000000/")
    check(sized_page, "404", language, 404, response)
    assert sized_page.locator("nav.main-nav").is_visible()


def test_the_403_page_for_a_staff_member_without_the_role(
    sized_page, live_server, language, marketer
):
    errors = watch_console(sized_page)
    sign_in(sized_page, live_server, marketer)
    response = sized_page.goto("/staff/patients/")
    check(sized_page, "403", language, 403, response)
    assert [e for e in errors if "403" not in e] == []


def test_the_500_page_renders_without_the_database(sized_page, language, monkeypatch, clinic_a):
    def fail(*args, **kwargs):
        raise RuntimeError("the database is gone")

    monkeypatch.setattr("portal.views.pages.clinics_by_city", fail)
    response = sized_page.goto("/")
    check(sized_page, "500", language, 500, response)
    assert "database" not in sized_page.content()


def test_the_400_page_for_a_malformed_address(sized_page, language):
    response = sized_page.goto("/?q=%00")
    check(sized_page, "400", language, 400, response)


def test_the_csrf_page_when_the_form_outlived_its_token(sized_page, language):
    sized_page.goto("/accounts/login/")
    sized_page.context.clear_cookies()
    sized_page.fill("input[name=login]", "someone@example.test")
    sized_page.fill("input[name=password]", "whatever-password")
    with sized_page.expect_navigation() as navigation:
        sized_page.locator('form[action="/accounts/login/"] [type=submit]').click()
    check(sized_page, "csrf", language, 403, navigation.value)
