"""Wrong bookings: rollbacks plus refused overlapping bookings, per 1,000 bookings."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.dashboard import figures
from analytics.selectors.scope import Scope
from analytics.selectors.sources import source_kpis
from analytics.selectors.tables import build_tables
from analytics.services.rollups import rollups_rebuild
from scheduling.models import RefusedOverlap

from .conftest import FIRST, LAST, LATER

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused(net):
    def refusals(clinic, doctor, day, count, channel="phone"):
        RefusedOverlap.objects.create(
            clinic=clinic,
            date=datetime.date(2026, 3, day),
            doctor=doctor,
            service=net.service,
            channel=channel,
            count=count,
        )

    refusals(net.berlin, net.doctor, 29, 2)
    refusals(net.berlin, net.doctor, 31, 5)  # after the period
    refusals(net.moscow, net.moscow_doctor, 29, 3)
    rollups_rebuild(now=LATER)
    return net


def test_a_clinics_refusals_join_its_rollbacks(refused):
    scope = Scope(clinic_ids=frozenset({refused.berlin.pk}), first=FIRST, last=LAST)
    fig = figures(scope=scope, now=LATER)
    found = source_kpis(scope=scope, fig=fig)
    # Six bookings made in the period, one rolled back and two refused as overlaps.
    assert found.values["wrong_bookings"] == pytest.approx(3 * 1000 / 6)
    # A comparison period reads the same from the rollups alone.
    assert source_kpis(scope=scope).values["wrong_bookings"] == pytest.approx(500)
    tables = build_tables(fig, refused=found.refused)
    (row,) = tables["clinics"].rows
    assert row["wrong_bookings"] == pytest.approx(500)


def test_the_network_adds_every_clinics_refusals(refused):
    scope = Scope(clinic_ids=None, first=FIRST, last=LAST)
    fig = figures(scope=scope, now=LATER)
    found = source_kpis(scope=scope, fig=fig)
    # Seven bookings (Moscow's one too), one rollback, 2 + 3 refusals.
    assert found.values["wrong_bookings"] == pytest.approx(6 * 1000 / 7)
    rows = {row["name"]: row for row in build_tables(fig, refused=found.refused)["clinics"].rows}
    assert rows["Москва Арбат"]["wrong_bookings"] == pytest.approx(3000)


def test_a_doctor_filter_keeps_only_that_doctors_refusals(refused):
    scope = Scope(clinic_ids=None, first=FIRST, last=LAST, doctor_id=refused.moscow_doctor.pk)
    assert source_kpis(scope=scope).values["wrong_bookings"] == pytest.approx(3000)


def test_no_bookings_read_no_data_yet_even_with_refusals(net):
    RefusedOverlap.objects.create(
        clinic=net.berlin,
        date=datetime.date(2026, 1, 5),
        doctor=net.doctor,
        service=net.service,
        channel="phone",
        count=1,
    )
    day = datetime.date(2026, 1, 5)
    scope = Scope(clinic_ids=frozenset({net.berlin.pk}), first=day, last=day)
    assert source_kpis(scope=scope).values["wrong_bookings"] is None
