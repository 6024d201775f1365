"""The assistant in a browser: a visitor opens the chat on the landing page, asks for a
therapist and gets free times; a patient who asks for a person is answered by a registrar in
the operator inbox, and the widget shows the answer. Screenshots at 390 px and 1280 px."""

import contextlib
import datetime

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from crm.models import Conversation
from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import sign_in, watch_console
from tests.factories import DoctorFactory, ServiceFactory, SpecialtyFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def therapist(clinic_a):
    specialty = SpecialtyFactory(slug="therapist", name="Терапевт")
    service = ServiceFactory(name="Приём терапевта первичный", specialty=specialty)
    doctor = DoctorFactory(
        last_name="Петрова", first_name="Ольга", services=[service], clinics=[clinic_a]
    )
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(0), end=datetime.time(23, 30))
    return doctor


ABORTED_LOAD = ("htmx:afterRequest,", "htmx:sendAbort,")


def ask(page, text: str) -> None:
    page.fill(".chat-form input[name=text]", text)
    page.click(".chat-form button[type=submit]")


def open_and_ask_at_once(page, text: str) -> list:
    """Open the widget and send `text` straight away. The panel's own load of the
    conversation (hx-get) reaches the server first, but its answer is held here until
    `let_through`: it lands after the reply, as on a slow network."""
    held: list = []

    def hold(route):
        if route.request.method == "GET" and "part=" not in route.request.url:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/crm/assistant/", hold)
    page.click(".assistant-widget > summary")
    while not held:
        page.wait_for_timeout(20)  # lets the route handler run: the load is answered first
    ask(page, text)
    return held


def let_through(page, held: list) -> None:
    """The held load answers now (late); the page must keep the reply it already shows."""
    for route, response in held:
        # Fulfilling a load htmx aborted (as it should) may fail: nothing is waiting for it.
        with contextlib.suppress(PlaywrightError):
            route.fulfill(response=response)
    page.unroute("**/crm/assistant/")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_a_visitor_gets_free_times_in_the_chat(browser, live_server, therapist, width, height):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    errors = watch_console(page)
    page.goto("/")
    held = open_and_ask_at_once(page, "Запишите меня к терапевту завтра")
    page.wait_for_selector("text=Свободное время")
    let_through(page, held)
    expect(page.locator(".chat-turns")).to_contain_text("Свободное время")
    screenshot(page, f"assistant-widget-{width}")
    assert page.url.rstrip("/") == live_server.url, page.url
    # The form is reset after htmx swaps the reply in: wait for it rather than race it.
    expect(page.locator(".chat-form input[name=text]")).to_have_value("")
    # A longer conversation scrolls: the newest answer is the one in view.
    ask(page, "Где вы находитесь?")
    expect(page.locator(".chat-turn.chat-assistant")).to_have_count(2)
    page.wait_for_function(
        "() => { const t = document.querySelector('.chat-turns');"
        " return t.scrollHeight > t.clientHeight"
        " && t.scrollTop + t.clientHeight >= t.scrollHeight - 2; }"
    )
    # htmx reports the load it aborted for the message (the pair of events below) on the
    # console; a failed send or an error answer would still show as htmx:sendError or
    # htmx:responseError.
    assert [e for e in errors if not e.startswith(ABORTED_LOAD)] == []
    context.close()


def test_an_operator_answers_a_handed_over_chat(browser, live_server, patient, registrar_a):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 390, "height": 844}
    )
    widget = context.new_page()
    sign_in(widget, live_server, patient.user)
    widget.goto("/me/")
    held = open_and_ask_at_once(widget, "Позовите оператора")
    expect(widget.locator(".chat-turn.chat-assistant").last).to_contain_text(
        "Передаю разговор оператору"
    )
    let_through(widget, held)
    expect(widget.locator(".chat-turn.chat-assistant").last).to_contain_text(
        "Передаю разговор оператору"
    )
    conversation = Conversation.objects.get()

    staff = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 800}
    )
    operator = staff.new_page()
    sign_in(operator, live_server, registrar_a)
    operator.goto("/crm/inbox/")
    screenshot(operator, "assistant-inbox-1280")
    operator.click(f"a[href='/crm/inbox/{conversation.public_id}/']")
    operator.fill("input[name=text]", "Здравствуйте! Чем могу помочь?")
    operator.click("form.chat-form button[type=submit]")
    operator.wait_for_selector("text=Ответ отправлен")
    screenshot(operator, "assistant-inbox-conversation-1280")

    widget.wait_for_selector("text=Здравствуйте! Чем могу помочь?", timeout=15000)
    screenshot(widget, "assistant-widget-operator-390")
    staff.close()
    context.close()
