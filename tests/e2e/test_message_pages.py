"""The message texts (with the live preview) and the message log, in a browser at a phone's and
a desk's width."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.choices import DeliveryStatus, MessageStatus
from notifications.models import OutboxMessage
from tests.conftest import client_for
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)


def signed_in_page(browser, live_server, user, width):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": 900}
    )
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context, context.new_page()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_clinic_admin_edits_a_text_with_a_live_preview(
    browser, live_server, clinic_admin_a, clinic_a, width
):
    context, page = signed_in_page(browser, live_server, clinic_admin_a, width)
    page.goto(f"{reverse('notifications:message_texts')}?scope={clinic_a.pk}")
    assert page.get_by_text("Напоминание перед приёмом").is_visible()
    screenshot(page, f"message-texts-{width}")
    page.goto(
        reverse(
            "notifications:message_text_edit",
            args=[clinic_a.pk, "appointment.reminder", "sms", "ru"],
        )
    )
    body = page.locator("#id_body")
    body.fill("Ждём вас {time}: {service}, {doctor}. Перенести: {clinic_phone}")
    preview = page.locator("#message-preview")
    preview.get_by_text("Ждём вас 7 дек").wait_for()
    assert "UCS-2" in preview.inner_text()
    screenshot(page, f"message-text-edit-{width}")
    body.fill("Диагноз: {diagnosis}")
    preview.get_by_text("Неизвестные подстановки").wait_for()
    screenshot(page, f"message-text-error-{width}")
    if width == 1280:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_message_log_reads_at_a_phone_and_a_desk_width(
    browser, live_server, clinic_admin_a, clinic_a, width
):
    outcomes = [
        {"status": MessageStatus.SENT, "delivery_status": DeliveryStatus.DELIVERED},
        {"status": MessageStatus.FAILED, "last_error": "SMS.ru 207: no route", "attempts": 5},
        {"status": MessageStatus.PENDING},
        {"status": MessageStatus.SENT, "delivery_status": DeliveryStatus.EXPIRED},
    ]
    for i, outcome in enumerate(outcomes):
        OutboxMessage.objects.create(
            event="appointment.reminder" if i % 2 else "appointment.booked",
            channel="sms" if i < 3 else "email",
            lane="bulk" if i % 2 else "critical",
            clinic=clinic_a,
            to_address=f"+7914000123{i}" if i < 3 else "anna@example.test",
            body="скрытый текст",
            due_at=timezone.now(),
            provider="smsru",
            **outcome,
        )
    context, page = signed_in_page(browser, live_server, clinic_admin_a, width)
    page.goto(reverse("notifications:message_log"))
    text = page.locator("table").inner_text()
    assert "Доставлено" in text and "SMS.ru 207" in text
    assert "скрытый текст" not in page.content()
    screenshot(page, f"message-log-{width}")
    if width == 1280:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    context.close()
