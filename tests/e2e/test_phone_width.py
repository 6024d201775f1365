"""Staff list pages on a 390 px phone: tables scroll inside their frame or stack as cards, and
the page itself never pans sideways."""

import pytest
from django.urls import reverse

from crm.models import Segment
from scheduling.models import Quota
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import ClinicFactory, DoctorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def phone(browser, live_server, user):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 390, "height": 844}
    )
    session = client_for(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context, context.new_page()


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_quotas_segments_and_connectors_fit_a_phone(
    browser, live_server, head_nurse_a, clinic_a, marketer, network_admin
):
    doctor = DoctorFactory(clinics=[clinic_a])
    Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=8)
    Segment.objects.create(name="Не были полгода, согласны на рассылку", rules={})
    ClinicFactory(name="Медфронт Замоскворечье")
    for user, url, name in (
        (head_nurse_a, f"{reverse('scheduling:nurse')}?clinic={clinic_a.public_id}", "quotas"),
        (
            head_nurse_a,
            f"{reverse('scheduling:nurse')}?clinic={clinic_a.public_id}&view=month",
            "quotas-month",
        ),
        (marketer, reverse("crm:segments"), "segments"),
        (network_admin, reverse("scheduling:connectors"), "connectors"),
    ):
        context, page = phone(browser, live_server, user)
        page.goto(url)
        assert overflow(page) <= 0, name
        screenshot(page, f"phone-{name}")
        context.close()
