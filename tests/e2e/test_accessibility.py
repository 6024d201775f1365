"""axe-core (vendored in tests/e2e/vendor, MPL-2.0) on every patient-facing page: no
violations of WCAG 2.1 A/AA rules, at phone and desktop widths."""

import datetime
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import DEMO_PASSWORD, DoctorFactory, ServiceFactory, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("options => axe.run(document, options)", RULES)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]


@pytest.fixture
def world(clinic_a, patient, dependant):
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    service = ServiceFactory(name="Приём терапевта первичный", specialty__name="Терапевт")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doctor, clinic_a, start=datetime.time(0), end=datetime.time(23, 30))
    today = timezone.localdate()
    slot = free_slots(
        service=service,
        doctor=doctor,
        start_date=today + datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=2),
    )[0]
    visit = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="online",
        actor=patient.user,
    )
    return {"patient": patient, "doctor": doctor, "service": service, "visit": visit}


@pytest.mark.parametrize("width", [390, 1280])
def test_patient_pages_have_no_accessibility_violations(browser, live_server, width, world):
    # The checker is injected into each page: the test's browser ignores the site's CSP.
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": width, "height": 900},
        bypass_csp=True,
    )
    page = context.new_page()
    doctor, service, visit = world["doctor"], world["service"], world["visit"]
    public = [
        "/",
        "/doctors/",
        f"/specialties/{service.specialty.slug}/",
        f"/doctors/{doctor.public_id}/?service={service.public_id}",
        f"/earliest/?service={service.public_id}",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/login/code/",
    ]
    found = {}
    for path in public:
        page.goto(path)
        found[path] = violations(page)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", world["patient"].user.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_url("**/home/")
    for path in [
        "/home/",
        "/visits/",
        f"/visits/{visit.public_id}/",
        f"/visits/{visit.public_id}/reschedule/",
        "/documents/",
        f"/waitlist/join/?service={service.public_id}",
        "/me/",
        "/me/edit/",
        "/me/family/",
        "/me/family/add/",
        "/me/consents/",
        "/me/security/",
    ]:
        page.goto(path)
        found[path] = violations(page)
    context.close()
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_the_checker_finds_what_it_should(browser):
    """A check that cannot fail proves nothing: a page with an unlabelled field and an image
    without text must be reported."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content('<html lang="ru"><body><main><img src="x.png"><input></main></body></html>')
    found = " ".join(violations(page))
    context.close()
    assert "image-alt" in found and "label" in found
