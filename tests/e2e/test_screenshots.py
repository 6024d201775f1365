"""Screenshots of the main patient pages at a phone's and a desktop's width, kept in
tests/e2e/screenshots/ so a reviewer sees what patients see (issue #12). Each page is also
checked for what a screenshot would show wrong: nothing wider than the window.

A run writes them to the e2e scratch directory; `UPDATE_SCREENSHOTS=1` writes the committed
copies instead (names and clock times differ each run, so a plain `make test` leaves the
working tree clean)."""

import datetime
import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from PIL import Image

from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.e2e.conftest import SCREENSHOTS as E2E_SCRATCH
from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = (
    Path(__file__).parent / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else E2E_SCRATCH / "patient-pages"
)
WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.fixture
def world(clinic_a, patient, dependant):
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    service = ServiceFactory(name="Приём терапевта первичный", specialty__name="Терапевт")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(8), end=datetime.time(20))
    day = timezone.localdate() + datetime.timedelta(days=2)
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[0]
    visit = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )
    return {"patient": patient, "doctor": doctor, "service": service, "visit": visit}


def save(page, name: str) -> Path:
    """A full-page PNG in 256 colours: small enough to keep in the repository."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)
    return path


def overflow(page) -> list[str]:
    """Elements reaching past the window's right edge (outside scrolling boxes)."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const scrolls = el => {
            for (let p = el.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (['auto', 'scroll', 'hidden'].includes(s.overflowX)
                    && p !== document.body && p !== document.documentElement) return true;
            }
            return false;
        };
        return [...document.querySelectorAll('body *')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width && r.right > width + 1 && !scrolls(el);
        }).map(el => el.tagName.toLowerCase() + '.' + el.className).slice(0, 5);
    }"""
    )


@pytest.mark.parametrize("device", WIDTHS)
def test_screenshots_of_the_main_patient_pages(browser, live_server, world, device):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": WIDTHS[device], "height": 800}
    )
    page = context.new_page()
    doctor, service, visit = world["doctor"], world["service"], world["visit"]
    problems = {}

    def shoot(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(path)
        page.wait_for_load_state("networkidle")
        save(page, f"{name}-{device}")
        problems[name] = overflow(page)

    shoot("landing", "/")
    shoot("find-care", "/doctors/")
    session = client_for(world["patient"].user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    shoot("doctor-week", f"/doctors/{doctor.public_id}/?service={service.public_id}")
    page.locator("button.slot").first.click()
    page.wait_for_url("**/book/**")
    shoot("confirm")
    shoot("my-visits", "/visits/")
    shoot("visit", f"/visits/{visit.public_id}/")
    shoot("documents", "/documents/")
    shoot("profile", "/me/")
    shoot("home", "/home/")
    context.close()
    assert not {name: found for name, found in problems.items() if found}
