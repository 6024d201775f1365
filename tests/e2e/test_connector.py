# ruff: noqa: F811 - the fixtures imported below are used as test arguments
"""Connector mode in a browser: a patient books a connector clinic's time (served by this
Medfront's own FHIR on the live server) from the doctor's page, and the network admin's
connector page; screenshots at a phone's and a desktop's width."""

import pytest

from scheduling.models import Appointment
from tests.conftest import client_for
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_screenshots import overflow
from tests.scheduling.connectors.conftest import (  # noqa: F401 - fixtures shared with that suite
    connector_clinic,
    fhir_connector,
    local_doctor,
    upstream_doctor,
    upstream_service,
    upstream_token,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(context, live_server, user) -> None:
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_a_patient_books_a_connector_clinics_time(
    browser, live_server, fhir_connector, connector_clinic, local_doctor, upstream_service, patient
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 800})
    sign_in(context, live_server, patient.user)
    page = context.new_page()
    page.goto(f"/doctors/{local_doctor.public_id}/?service={upstream_service.public_id}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "connector-doctor-phone.png"), full_page=True)
    assert overflow(page) == []
    page.locator(".connector-picker a.slot").first.click()
    page.wait_for_url("**/book/external/**")
    page.screenshot(path=str(SCREENSHOTS / "connector-confirm-phone.png"), full_page=True)
    page.locator("form.confirm-form button[type=submit]").click()
    page.wait_for_url("**/visits/**")
    page.screenshot(path=str(SCREENSHOTS / "connector-visit-phone.png"), full_page=True)
    assert Appointment.objects.filter(clinic=connector_clinic, patient=patient).count() == 1


def test_the_network_admins_connector_page(
    browser, live_server, fhir_connector, connector_clinic, network_admin
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    sign_in(context, live_server, network_admin)
    page = context.new_page()
    page.goto("/network/connectors/")
    page.screenshot(path=str(SCREENSHOTS / "connector-list-desktop.png"), full_page=True)
    page.goto(f"/network/connectors/{connector_clinic.public_id}/")
    page.locator("form[action$='/check/'] button").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "connector-admin-desktop.png"), full_page=True)
    assert fhir_connector.secret not in page.content()
    assert overflow(page) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_desk_confirms_a_request_upstream_and_visits_move_upstream(
    browser,
    live_server,
    fhir_connector,
    connector_clinic,
    local_doctor,
    upstream_service,
    patient,
    width,
):
    import datetime

    from django.utils import timezone

    from portal.choices import Role
    from scheduling.choices import BookingRequestSource
    from scheduling.choices import BookingRequestStatus as R
    from scheduling.services.booking_requests import booking_request_create
    from tests.factories import make_staff

    # The live server's first FHIR answer can take longer than 3 s on a busy machine.
    fhir_connector.timeout_seconds = 30
    fhir_connector.save(update_fields=["timeout_seconds"])
    day = timezone.now().astimezone(connector_clinic.tz).date() + datetime.timedelta(days=1)
    waiting = booking_request_create(
        patient=patient,
        clinic=connector_clinic,
        windows=[{"from": day, "to": day, "part": "morning"}],
        actor=patient.user,
        source=BookingRequestSource.CONNECTOR,
        service=upstream_service,
        doctor=local_doctor,
    )
    desk = make_staff(Role.REGISTRAR, connector_clinic, email="desk-e2e@example.test")
    name = "phone" if width == 390 else "desktop"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    sign_in(context, live_server, desk)
    page = context.new_page()
    page.goto(f"/desk/requests/{waiting.public_id}/?date={day}")
    page.screenshot(path=str(SCREENSHOTS / f"connector-desk-request-{name}.png"), full_page=True)
    assert overflow(page) == []
    page.locator("main input[name=upstream]").nth(1).check()
    page.locator("main form[action$='/confirm_upstream/'] button[type=submit]").click()
    page.wait_for_url("**/desk/requests/?clinic=*")
    waiting.refresh_from_db()
    assert waiting.status == R.CONFIRMED
    visit = waiting.appointment
    page.goto(f"/desk/appointments/{visit.public_id}/reschedule/?date={day}")
    page.screenshot(path=str(SCREENSHOTS / f"connector-desk-move-{name}.png"), full_page=True)
    assert overflow(page) == []
    context.close()

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    sign_in(context, live_server, patient.user)
    page = context.new_page()
    page.goto(f"/visits/{visit.public_id}/reschedule/")
    page.screenshot(path=str(SCREENSHOTS / f"connector-move-{name}.png"), full_page=True)
    assert overflow(page) == []
    before = visit.starts_at
    page.locator("main button[name=upstream]").last.click()
    page.wait_for_url(f"**/visits/{visit.public_id}/")
    visit.refresh_from_db()
    assert visit.starts_at != before
    context.close()
