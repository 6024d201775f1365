"""The patient's message settings and Telegram link pages in a browser, Russian and English,
on a phone and a desktop: nothing reaches past the window, the forms work without JavaScript."""

import pytest

from portal.consent_texts import ensure_consent_documents
from portal.models import ContactPreference
from portal.services.contact import contact_channel_stop
from tests.conftest import client_for
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_screenshots import overflow, save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("device", WIDTHS)
def test_message_settings_and_telegram_link_pages(
    browser, live_server, patient, settings, device, language
):
    settings.TELEGRAM_BOT_USERNAME = "medfront_clinic_bot"
    ensure_consent_documents()
    contact_channel_stop(patients=[patient], channel="sms")
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU" if language == "ru" else "en-US",
        viewport={"width": WIDTHS[device], "height": 800},
        java_script_enabled=device == "desktop",  # the phone run posts plain forms
    )
    session = client_for(patient.user).cookies["sessionid"].value
    context.add_cookies(
        [
            {"name": "sessionid", "value": session, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    problems = {}
    page.goto("/me/notifications/")
    save(page, f"message-settings-{language}-{device}")
    problems["settings"] = overflow(page)
    page.locator("#channel-sms input[type=checkbox]").first.check()
    page.locator(".contact-prefs button[type=submit]").click()
    page.locator(".flash").wait_for()  # the same address again: wait for the saved notice
    assert ContactPreference.objects.get(patient=patient, channel="sms").stopped_at is None
    page.goto("/me/telegram/")
    page.locator("form.get-code button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".link-code-value").inner_text().strip()
    save(page, f"telegram-link-{language}-{device}")
    problems["telegram"] = overflow(page)
    context.close()
    assert not {name: found for name, found in problems.items() if found}, SCREENSHOTS
