"""Request mode in a browser: a patient leaves a booking request where a clinic books on
request, the registrar confirms it from the desk's queue, and every page fits a phone's and a
desktop's width (issue #15). Screenshots go to the e2e scratch directory."""

import datetime

import pytest
from django.utils import timezone

from scheduling.choices import BookingMode
from scheduling.choices import BookingRequestStatus as R
from scheduling.models import BookingPolicy, BookingRequest
from tests.conftest import client_for
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_screenshots import overflow
from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WIDTHS = {"phone": 390, "desktop": 1280}


def sign_in(context, live_server, user) -> None:
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


@pytest.mark.parametrize(("device", "language"), [("phone", "ru"), ("desktop", "en")])
def test_a_request_is_left_and_confirmed_at_the_desk(
    browser, live_server, clinic_a, patient, registrar_a, device, language
):
    BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)
    service = ServiceFactory(name="Приём терапевта первичный", specialty__name="Терапевт")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(8), end=datetime.time(20))
    day = timezone.now().astimezone(clinic_a.tz).date() + datetime.timedelta(days=2)
    problems = {}

    def shoot(page, name):
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"request-{name}-{device}.png"), full_page=True)
        problems[name] = overflow(page)

    viewport = {"width": WIDTHS[device], "height": 800}
    locale = "ru-RU" if language == "ru" else "en-US"
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    sign_in(context, live_server, patient.user)
    page = context.new_page()
    page.goto(f"/doctors/{doctor.public_id}/?service={service.public_id}")
    shoot(page, "doctor")
    page.locator(".request-notice a[role=button]").first.click()
    page.wait_for_url("**/requests/new/**")
    page.fill("#id_from_1", day.isoformat())
    page.select_option("#id_part_1", "morning")
    page.fill("#id_comment", "Болит голова с пятницы")
    shoot(page, "form")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/visits/**")
    shoot(page, "my-requests")
    context.close()
    request = BookingRequest.objects.get()
    assert request.status == R.OPEN

    desk = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    desk.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    sign_in(desk, live_server, registrar_a)
    page = desk.new_page()
    page.goto("/desk/")
    page.locator(".dk-requests-panel a").click()
    page.wait_for_url("**/desk/requests/**")
    shoot(page, "queue")
    page.locator(f"a[href*='{request.public_id}']").click()
    shoot(page, "answer")
    page.locator("input[name=slot]").first.check()
    page.locator("form[action$='/confirm/'] button[type=submit]").first.click()
    page.wait_for_url("**/desk/requests/?clinic=*")
    shoot(page, "queue-after")
    desk.close()
    request.refresh_from_db()
    assert request.status == R.CONFIRMED
    assert not {name: found for name, found in problems.items() if found}
