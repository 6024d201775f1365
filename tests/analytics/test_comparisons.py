"""The comparison periods' KPIs: a period over before the live days is kept in the cache until
the rollups next change; one that reaches the live days is read afresh."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.scope import Scope
from analytics.selectors.sources import comparison_kpis, source_kpis
from analytics.services.rollups import rollups_rebuild, rollups_refresh

from .conftest import BERLIN, FIRST, LAST, LATER, at
from .test_assistant_kpis import talk

pytestmark = pytest.mark.django_db


def berlin(net, first=FIRST, last=LAST) -> Scope:
    return Scope(clinic_ids=frozenset({net.berlin.pk}), first=first, last=last)


def test_a_past_period_is_the_same_as_read_afresh(net):
    talk(started=at(BERLIN, 28, 10), clinic=net.berlin, resolved=True, booked_after=12)
    talk(started=at(BERLIN, 29, 15), clinic=net.berlin, handed_over=True)
    rollups_rebuild(now=LATER)
    scope = berlin(net)
    found = comparison_kpis(scope=scope, now=LATER)
    assert found["assistant_resolved"] == pytest.approx(1 / 2)
    assert found["assistant_handoff"] == pytest.approx(1 / 2)
    # The cached value is what the sources give.
    assert comparison_kpis(scope=scope, now=LATER) == found
    assert source_kpis(scope=scope).values.items() <= found.items()


def test_a_late_edit_of_a_past_period_shows_with_the_next_refresh(net):
    talk(started=at(BERLIN, 28, 10), clinic=net.berlin, resolved=True, booked_after=12)
    rollups_rebuild(now=LATER)
    scope = berlin(net)
    assert comparison_kpis(scope=scope, now=LATER)["assistant_resolved"] == 1
    talk(started=at(BERLIN, 29, 15), clinic=net.berlin, handed_over=True)
    # Kept while the rollups stay as they are...
    assert comparison_kpis(scope=scope, now=LATER)["assistant_resolved"] == 1
    rollups_refresh(now=LATER + datetime.timedelta(minutes=5))
    # ...and read again once they have moved on.
    assert comparison_kpis(scope=scope, now=LATER)["assistant_resolved"] == pytest.approx(1 / 2)


def test_a_period_that_reaches_the_live_days_is_read_afresh(net):
    now = at(BERLIN, 30, 18)
    talk(started=at(BERLIN, 28, 10), clinic=net.berlin, resolved=True, booked_after=12)
    rollups_rebuild(now=now)
    scope = berlin(net)
    assert comparison_kpis(scope=scope, now=now)["assistant_resolved"] == 1
    talk(started=at(BERLIN, 30, 15), clinic=net.berlin, handed_over=True)
    assert comparison_kpis(scope=scope, now=now)["assistant_resolved"] == pytest.approx(1 / 2)
