"""The cancellation waitlist in a browser: a freed time offered, staff watching the offers and
ranking, the patient taking it from the link; screenshots at 390 and 1280 px."""

import datetime

import pytest
from django.utils import timezone

from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.waitlist_offers import waitlist_slot_freed
from tests.e2e.conftest import screenshot
from tests.e2e.test_desk import desk_clinic, registrar, sign_in_page  # noqa: F401 (fixtures)
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def freed(desk_clinic, registrar):  # noqa: F811
    """Today 10:00 (the clinic's early morning now) freed, six patients waiting."""
    service = ServiceFactory(name="Приём терапевта", duration_minutes=30)
    doctor = DoctorFactory(services=[service], clinics=[desk_clinic])
    make_weekly_schedule(doctor, desk_clinic, start=datetime.time(8), end=datetime.time(20))
    today = timezone.now().astimezone(desk_clinic.tz).date()
    for index in range(6):
        WaitlistEntry.objects.create(
            patient=PatientFactory(),
            service=service,
            date_from=today,
            date_to=today + datetime.timedelta(days=7),
            created_at=timezone.now() - datetime.timedelta(days=40 * index),
            urgent=index == 1,
            boost=15 if index == 2 else 0,
        )
    start = datetime.datetime.combine(today, datetime.time(10), tzinfo=desk_clinic.tz)
    visit = appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=start,
        channel="phone",
        actor=registrar,
    )
    appointment_cancel(appointment=visit, actor=registrar)
    return waitlist_slot_freed(appointment_id=visit.pk)


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_watch_the_offers_and_the_ranking(browser, live_server, registrar, freed, width):  # noqa: F811
    page = sign_in_page(browser, live_server, registrar, viewport=(width, 900))
    page.goto("/desk/waitlist/")
    assert page.locator(".wl-slot").count() == 1
    assert page.locator("#waitlist-live table").count() == 2
    screenshot(page, f"waitlist-staff-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_patient_takes_the_time_from_the_link(browser, live_server, freed, width):
    offer = WaitlistOffer.objects.filter(slot=freed).order_by("-score").first()
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": width, "height": 844}
    )
    page = context.new_page()
    page.goto(f"/waitlist/offers/{offer.token}/")
    screenshot(page, f"waitlist-offer-{width}")
    page.get_by_role("button", name="Да, записаться").click()
    page.wait_for_load_state()
    screenshot(page, f"waitlist-offer-accepted-{width}")
    assert Appointment.objects.get(patient=offer.patient, status="booked").channel == "waitlist"
    context.close()
