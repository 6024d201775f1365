"""Call answer time, which telephony supplies through `portal.metrics` (analytics may not
import telephony): hand-computed medians, Berlin's local midnights and the wrong clinic."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.facts import clinic_zones
from analytics.selectors.scope import Scope
from analytics.selectors.sources import source_kpis
from portal import metrics
from telephony.models import Call, TelephonyAccount, TelephonyLine
from telephony.selectors.answer_times import call_answer_figures

from .conftest import BERLIN, FIRST, LAST, MOSCOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(net):
    account = TelephonyAccount.objects.create(name="PBX", provider="generic", secret="s3cret")
    berlin = TelephonyLine.objects.create(account=account, clinic=net.berlin, number="+4930000")
    moscow = TelephonyLine.objects.create(account=account, clinic=net.moscow, number="+7495000")
    counter = iter(range(1000))

    def call(line, started, answer_after=None, *, missed=False, direction="in"):
        Call.objects.create(
            account=account,
            line=line,
            provider_call_id=f"c{next(counter)}",
            direction=direction,
            state="ended",
            started_at=started,
            answered_at=(
                started + datetime.timedelta(seconds=answer_after)
                if answer_after is not None
                else None
            ),
            ended_at=started + datetime.timedelta(minutes=5),
            missed=missed,
        )

    call(berlin, at(BERLIN, 28, 9), 10)
    # 00:20 on the 28th in Berlin is the 27th in UTC: in the period.
    call(berlin, at(BERLIN, 28, 0, 20), 40)
    call(berlin, at(BERLIN, 29, 23, 50), 30)
    call(berlin, at(BERLIN, 30, 12), 20)
    call(berlin, at(BERLIN, 30, 13), missed=True)
    # 00:10 on the 31st in Berlin is the 30th in UTC: after the period.
    call(berlin, at(BERLIN, 31, 0, 10), 100)
    call(berlin, at(BERLIN, 30, 14), 90, direction="out")
    # Still ringing: neither answered nor missed yet.
    call(berlin, at(BERLIN, 30, 15))
    # The Moscow clinic's line.
    call(moscow, at(MOSCOW, 29, 9), 5)
    call(moscow, at(MOSCOW, 29, 10), missed=True)
    return net


def test_the_median_of_a_clinics_answered_calls_of_its_local_days(calls):
    zones = clinic_zones([calls.berlin.pk])
    figures = call_answer_figures(zones=zones, first=FIRST, last=LAST)
    # Answered after 10, 40, 30 and 20 seconds; one missed, left out of the median.
    assert figures.median_seconds == 25
    assert (figures.answered, figures.missed) == (4, 1)


def test_the_network_median_takes_every_clinics_calls(calls):
    figures = call_answer_figures(zones=clinic_zones(), first=FIRST, last=LAST)
    assert figures.median_seconds == 20
    assert (figures.answered, figures.missed) == (5, 2)


def test_the_dashboard_reads_telephony_through_the_registry(calls):
    scope = Scope(clinic_ids=frozenset({calls.berlin.pk}), first=FIRST, last=LAST)
    found = source_kpis(scope=scope)
    assert found.values["call_answer"] == 25
    assert found.calls is not None and found.calls.missed == 1
    moscow = Scope(clinic_ids=frozenset({calls.moscow.pk}), first=FIRST, last=LAST)
    assert source_kpis(scope=moscow).values["call_answer"] == 5


def test_no_answered_call_reads_no_data_yet(net):
    scope = Scope(clinic_ids=frozenset({net.berlin.pk}), first=FIRST, last=LAST)
    assert source_kpis(scope=scope).values["call_answer"] is None


def test_without_a_registered_source_the_figure_is_missing(calls):
    scope = Scope(clinic_ids=frozenset({calls.berlin.pk}), first=FIRST, last=LAST)
    metrics.unregister_call_answer_source()
    try:
        assert source_kpis(scope=scope).values["call_answer"] is None
    finally:
        metrics.register_call_answer_source(call_answer_figures)
