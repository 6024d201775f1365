"""The KPI dashboard at a desk's width (1280 px) and on a wide screen (1920 px)."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from analytics.services.rollups import rollups_rebuild
from analytics.views import TILES
from portal.choices import Role
from scheduling.choices import AppointmentStatus as S
from scheduling.models import ScheduleRule
from tests.analytics.conftest import BERLIN, Network
from tests.conftest import client_for
from tests.e2e.conftest import screenshot
from tests.factories import PatientFactory, make_staff, make_weekly_schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHANNELS = ["online", "online", "phone", "phone", "walk_in", "assistant", "waitlist"]
OUTCOMES = [S.COMPLETED] * 7 + [S.NO_SHOW, S.CANCELLED, S.CANCELLED]


def _history(net: Network, days: int = 60) -> None:
    rng = random.Random(17)
    today = timezone.now().astimezone(BERLIN).date()
    patients = [PatientFactory() for _ in range(40)]
    for clinic, doctor in ((net.berlin, net.doctor), (net.moscow, net.moscow_doctor)):
        ScheduleRule.objects.filter(doctor=doctor).delete()
        make_weekly_schedule(doctor, clinic, start=datetime.time(8), end=datetime.time(20))
    for back in range(days, -1, -1):
        day = today - datetime.timedelta(days=back)
        for clinic, doctor in ((net.berlin, net.doctor), (net.moscow, net.moscow_doctor)):
            for hour in rng.sample(range(9, 19), rng.randint(3, 8)):
                starts = datetime.datetime.combine(day, datetime.time(hour), BERLIN)
                created = starts - datetime.timedelta(days=rng.randint(0, 6), hours=2)
                status = rng.choice(OUTCOMES) if back else S.BOOKED
                net.visit(
                    starts=starts,
                    created=created,
                    status=status,
                    channel=rng.choice(CHANNELS),
                    price=rng.choice(["1800.00", "2500.00", "3200.00"]),
                    patient=rng.choice(patients),
                    late=status == S.CANCELLED and rng.random() < 0.3,
                    clinic=clinic,
                    doctor=doctor,
                )


@pytest.mark.parametrize(("width", "language"), [(1280, "ru-RU"), (1920, "en-GB")])
def test_the_dashboard_reads_well_at_1280_and_1920_px(browser, live_server, width, language):
    net = Network()
    _history(net)
    rollups_rebuild()
    director = make_staff(Role.DIRECTOR, None, email=f"director-{width}@example.test")
    context = browser.new_context(
        base_url=live_server.url, locale=language, viewport={"width": width, "height": 1000}
    )
    session = client_for(director).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    suffix = "?language=en" if language.startswith("en") else ""
    page.goto(f"/analytics/{suffix}")
    assert page.locator(".kpi-tiles .kpi").count() == len(TILES)
    assert page.locator("svg.chart title").count() > 10
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, f"analytics-dashboard-{width}")
    context.close()
