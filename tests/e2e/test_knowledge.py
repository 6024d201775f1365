"""The knowledge base in a browser: a clinic admin writes an article, tries a patient's
question and opens the public page the assistant would cite. Screenshots at 1280 px (the
staff page) and 390 px (the public article patients open)."""

import pytest

from crm.models import KnowledgeArticle
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clinic_admin_writes_an_article_and_finds_it(
    page, browser, live_server, clinic_a, clinic_admin_a
):
    KnowledgeArticle.objects.create(
        title="Подготовка к анализу крови",
        body="Кровь сдают утром натощак: не есть 8–12 часов, пить только воду.",
        language="ru",
        kind="preparation",
    )
    errors = watch_console(page)
    session = client_for(clinic_admin_a).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/crm/knowledge/")
    page.locator("#id_title").fill("Парковка у клиники")
    page.locator("#id_kind").select_option("directions")
    page.locator("#id_body").fill("Бесплатная парковка во дворе, въезд с улицы Ленина.")
    page.locator("#id_published").check()
    page.locator("#new-article button[type=submit]").click()
    page.wait_for_url("**/crm/knowledge/*-*/")
    screenshot(page, "knowledge-article-desktop")
    page.goto(f"{live_server.url}/crm/knowledge/?q=есть+ли+парковка")
    screenshot(page, "knowledge-base-desktop")
    assert page.locator("ol li a").first.inner_text() == "Парковка у клиники"
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    article = KnowledgeArticle.objects.get(title="Парковка у клиники")
    phone = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 390, "height": 844}
    ).new_page()
    phone.goto(f"{live_server.url}/crm/help/{article.public_id}/")
    screenshot(phone, "knowledge-article-phone")
    assert "въезд с улицы Ленина" in phone.content()
    assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    phone.context.close()
    assert errors == []
