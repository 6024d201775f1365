"""The director's and the network admin's audit log, read in a browser at a desk's width."""

import pytest
from django.urls import reverse

from portal.selectors.patients import patient_card, patient_search
from portal.services.patients import patient_update
from tests.conftest import client_for
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_audit_log_fits_a_1280_px_screen_and_reads_in_words(
    browser, live_server, network_admin, registrar_a, patient, other_patient
):
    for _ in range(5):
        patient_card(user=registrar_a, public_id=patient.public_id)
    patient_search(user=registrar_a, phone=patient.phone)
    patient_update(actor=registrar_a, patient=other_patient, address="Lenina 1")
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    session = client_for(network_admin).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(reverse("portal:audit_log") + "?language=en")
    table = page.locator("table.audit-table")
    assert table.is_visible()
    text = table.inner_text()
    assert patient.full_name in text
    assert "portal.patient" not in text and "phone_bidx" not in text
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "audit-log-1280")
    context.close()
