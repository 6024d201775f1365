"""The assistant in a browser: a visitor opens the chat on the landing page, asks for a
therapist and gets free times; a patient who asks for a person is answered by a registrar in
the operator inbox, and the widget shows the answer. Screenshots at 390 px and 1280 px."""

import datetime

import pytest
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


def ask(page, text: str) -> None:
    page.fill(".chat-form input[name=text]", text)
    page.click(".chat-form button[type=submit]")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_a_visitor_gets_free_times_in_the_chat(browser, live_server, therapist, width, height):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    errors = watch_console(page)
    page.goto("/")
    page.click(".assistant-widget > summary")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector(".chat-turn.chat-assistant")
    ask(page, "Запишите меня к терапевту завтра")
    page.wait_for_selector("text=Свободное время")
    screenshot(page, f"assistant-widget-{width}")
    assert page.url.rstrip("/") == live_server.url, page.url
    # The form is reset after htmx swaps the reply in: wait for it rather than race it.
    expect(page.locator(".chat-form input[name=text]")).to_have_value("")
    assert errors == []
    context.close()


def test_an_operator_answers_a_handed_over_chat(browser, live_server, patient, registrar_a):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 390, "height": 844}
    )
    widget = context.new_page()
    sign_in(widget, live_server, patient.user)
    widget.goto("/me/")
    widget.click(".assistant-widget > summary")
    # Opening loads the patient's conversation (hx-get); a message sent before that answer
    # lands would be overwritten by it.
    widget.wait_for_load_state("networkidle")
    widget.wait_for_selector(".chat-turn.chat-assistant")
    ask(widget, "Позовите оператора")
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
