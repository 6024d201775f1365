"""Every KPI against values worked out by hand from the dataset in `conftest.py`."""

from __future__ import annotations

import datetime

import pytest

from analytics.models import DailyFact, DoctorDayCapacity
from analytics.selectors.dashboard import figures, history_kpis, kpi_values
from analytics.selectors.scope import Scope
from analytics.services.rollups import rollups_rebuild, rollups_refresh
from scheduling.choices import AppointmentStatus as S
from scheduling.models import Appointment, ScheduleRule

from .conftest import BERLIN, FIRST, LAST, LATER, MOSCOW, at

pytestmark = pytest.mark.django_db


def berlin_scope(net, **kw) -> Scope:
    return Scope(clinic_ids=frozenset({net.berlin.pk}), first=FIRST, last=LAST, **kw)


def test_the_rollups_give_the_hand_computed_kpis(net):
    rollups_rebuild(now=LATER)
    fig = figures(scope=berlin_scope(net), now=LATER)
    kpis = kpi_values(fig)
    # Bookings made on the 28th–30th local: C, D, E, F, G, H; online: C, E, G.
    assert kpis["bookings"] == 6
    assert kpis["online_share"] == pytest.approx(0.5)
    # Visits due: A B C D E G H I (F was rolled back); attended A C G I; no-show B.
    assert kpis["no_show_rate"] == pytest.approx(1 / 5)
    assert kpis["cancellation_rate"] == pytest.approx(2 / 8)
    assert kpis["late_cancellation_rate"] == pytest.approx(1 / 8)
    assert kpis["wrong_bookings"] == pytest.approx(1000 / 6)
    # 6 visits keep their 30 minutes; 3 days of 09:00–13:00, the DST day included.
    assert fig.totals.booked_minutes == 180
    assert fig.scheduled_minutes == 720
    assert kpis["utilisation"] == pytest.approx(0.25)
    assert kpis["revenue"] == 3300
    assert kpis["new_patients"] == 2
    assert fig.totals.completed - fig.totals.new_patients == 1
    # P1 came back on the 29th, P2 never did.
    assert kpis["retention_90"] == pytest.approx(0.5)
    for no_data in (
        "request_confirmation",
        "call_answer",
        "waitlist_fill",
        "waitlist_time_to_fill",
        "waitlist_manual",
        "waitlist_opened_fill",
        "delivery_rate",
    ):
        assert kpis[no_data] is None


def test_days_are_the_clinics_local_days(net):
    rollups_rebuild(now=LATER)
    by_day = figures(scope=berlin_scope(net), now=LATER).series
    # C was made at 00:30 local on the 28th (the 27th in UTC); H is due at 00:30 on Monday.
    assert by_day[datetime.date(2026, 3, 28)].bookings == 1
    assert by_day[datetime.date(2026, 3, 30)].visits == 4
    assert by_day[datetime.date(2026, 3, 29)].visits == 2
    assert set(
        DoctorDayCapacity.objects.filter(date__range=(FIRST, LAST)).values_list(
            "scheduled_minutes", flat=True
        )
    ) == {240}


def test_the_heatmap_counts_visits_by_local_weekday_and_hour(net):
    rollups_rebuild(now=LATER)
    heat = figures(scope=berlin_scope(net), now=LATER).heatmap
    # Saturday (5): A 09, B 10; Sunday (6): C 09, D 10 (CEST); Monday (0): H 00, E 09, G 12, I 13.
    assert heat[5][9] == heat[5][10] == 1
    assert heat[6][9] == heat[6][10] == 1
    assert heat[0][0] == heat[0][9] == heat[0][12] == heat[0][13] == 1
    assert sum(map(sum, heat)) == 8


def test_the_network_adds_the_other_clinic(net):
    rollups_rebuild(now=LATER)
    scope = Scope(clinic_ids=None, first=FIRST, last=LAST)
    kpis = kpi_values(figures(scope=scope, now=LATER))
    assert kpis["bookings"] == 7
    assert kpis["revenue"] == 8300


def test_today_is_live_before_any_refresh(net):
    now = at(BERLIN, 30, 14).astimezone(datetime.UTC)
    # Built before the 29th ended: the 29th is not yet rolled up for good, so it reads live.
    rollups_rebuild(now=at(BERLIN, 29, 12).astimezone(datetime.UTC))
    net.visit(starts=at(BERLIN, 31, 9), created=now - datetime.timedelta(minutes=1))
    kpis = kpi_values(figures(scope=berlin_scope(net), now=now))
    assert kpis["bookings"] == 7


def test_live_and_rolled_up_figures_agree(net):
    now = at(BERLIN, 30, 14).astimezone(datetime.UTC)
    # The 28th comes from the rollups, the 29th and 30th are read live.
    rollups_rebuild(now=now)
    live = kpi_values(figures(scope=berlin_scope(net), now=now))
    rolled = kpi_values(figures(scope=berlin_scope(net), now=LATER))
    for code in ("bookings", "online_share", "no_show_rate", "wrong_bookings", "revenue"):
        assert live[code] == rolled[code], code


def test_the_comparison_reads_the_rollups(net):
    rollups_rebuild(now=LATER)
    kpis = history_kpis(scope=berlin_scope(net))
    assert kpis["bookings"] == 6
    assert kpis["online_share"] == pytest.approx(0.5)
    assert kpis["utilisation"] == pytest.approx(0.25)
    empty = history_kpis(scope=berlin_scope(net).last_year())
    assert empty["no_show_rate"] is None
    assert empty["revenue"] is None


def test_refresh_recomputes_only_the_changed_days(net):
    built = at(BERLIN, 31, 12).astimezone(datetime.UTC)
    # The schedules were written "now" by the factories: date them before the rebuild.
    ScheduleRule.objects.update(updated_at=built - datetime.timedelta(days=30))
    rollups_rebuild(now=built)
    untouched = DailyFact.objects.get(date=datetime.date(2026, 3, 28), channel="phone").pk
    later = built + datetime.timedelta(hours=1)
    Appointment.objects.filter(status=S.CHECKED_IN).update(status=S.COMPLETED, updated_at=later)
    result = rollups_refresh(now=later + datetime.timedelta(minutes=1))
    # G's day (the 30th, made and due), which is also yesterday, and today: per clinic.
    assert result.pairs == 2 + 2
    assert DailyFact.objects.filter(pk=untouched).exists()
    kpis = kpi_values(figures(scope=berlin_scope(net), now=LATER))
    assert kpis["revenue"] == 4300


def test_a_schedule_change_recomputes_the_days_it_reaches(net):
    built = at(BERLIN, 31, 12).astimezone(datetime.UTC)
    rollups_rebuild(now=built)
    rule = net.doctor.schedule_rules.get(weekday=6)
    rule.end_time = datetime.time(11)
    rule.save()
    rollups_refresh(now=rule.updated_at + datetime.timedelta(minutes=1))
    sunday = DoctorDayCapacity.objects.get(doctor=net.doctor, date=datetime.date(2026, 3, 29))
    assert sunday.scheduled_minutes == 120


@pytest.mark.parametrize("narrowed", ["network", "berlin", "doctor"])
def test_the_live_days_count_exactly_what_the_rollups_count(net, narrowed):
    now = at(BERLIN, 30, 14).astimezone(datetime.UTC)
    # Built before the 29th ended: the 29th is not yet rolled up for good, so it reads live.
    rollups_rebuild(now=at(BERLIN, 29, 12).astimezone(datetime.UTC))
    scope = {
        "network": Scope(clinic_ids=None, first=FIRST, last=LAST),
        "berlin": berlin_scope(net),
        "doctor": Scope(clinic_ids=None, first=FIRST, last=LAST, doctor_id=net.doctor.pk),
    }[narrowed]
    # The 29th and 30th (the DST day and the day after, in two time zones) read live...
    live = figures(scope=scope, now=now)
    # ...and every day from the rollups.
    rolled = figures(scope=scope, now=LATER)
    assert live.sums == rolled.sums
    assert live.series == rolled.series
    assert live.series_online == rolled.series_online
    assert live.heatmap == rolled.heatmap
    # A and I are Berlin's first visits; the network adds Moscow's one.
    assert live.totals.new_patients == (3 if narrowed == "network" else 2)


def test_a_refresh_shows_through_the_cached_history(net):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    built = at(BERLIN, 31, 12).astimezone(datetime.UTC)
    ScheduleRule.objects.update(updated_at=built - datetime.timedelta(days=30))
    rollups_rebuild(now=built)
    scope = berlin_scope(net)
    # A, C and I completed; LATER reads every day from the rollups.
    assert kpi_values(figures(scope=scope, now=LATER))["revenue"] == 3300
    assert history_kpis(scope=scope)["revenue"] == 3300
    with CaptureQueriesContext(connection) as cold:
        figures(scope=scope.previous(), now=LATER)
    with CaptureQueriesContext(connection) as warm:
        figures(scope=scope.previous(), now=LATER)
    assert len(warm) < len(cold)
    later = built + datetime.timedelta(hours=1)
    Appointment.objects.filter(status=S.CHECKED_IN).update(status=S.COMPLETED, updated_at=later)
    rollups_refresh(now=later + datetime.timedelta(minutes=1))
    # G completed too: the refresh moved the rollups' state, so nothing cached is served.
    assert kpi_values(figures(scope=scope, now=LATER))["revenue"] == 4300
    assert history_kpis(scope=scope)["revenue"] == 4300


def test_yesterday_reads_live_until_a_refresh_began_after_it_ended_in_every_zone(net):
    from analytics.selectors.dashboard import live_days

    scope = Scope(clinic_ids=None, first=FIRST, last=LAST)
    now = datetime.datetime(2026, 3, 31, 9, tzinfo=datetime.UTC)
    # The 30th ends at 21:00 UTC in Moscow and at 22:00 UTC in Berlin (summer time).
    between = datetime.datetime(2026, 3, 30, 21, 30, tzinfo=datetime.UTC)
    both = {net.berlin.pk: BERLIN, net.moscow.pk: MOSCOW}
    assert live_days(scope, now) == {LAST}
    assert live_days(scope, now, read_up_to=between, zones=both) == {LAST}
    assert live_days(scope, now, read_up_to=between, zones={net.moscow.pk: MOSCOW}) == set()
    # Within the margin after Berlin's midnight a transaction may still be committing.
    assert live_days(
        scope,
        now,
        read_up_to=datetime.datetime(2026, 3, 30, 22, 3, tzinfo=datetime.UTC),
        zones=both,
    ) == {LAST}
    assert live_days(scope, now, read_up_to=now, zones=both) == set()
    # Today stays live whatever the rollups say.
    assert live_days(
        Scope(clinic_ids=None, first=FIRST, last=now.date()), now, read_up_to=now, zones=both
    ) == {now.date()}


def test_a_settled_yesterday_changes_with_the_next_refresh(net):
    built = at(BERLIN, 31, 9).astimezone(datetime.UTC)
    ScheduleRule.objects.update(updated_at=built - datetime.timedelta(days=30))
    rollups_rebuild(now=built)
    scope = berlin_scope(net)
    now = built + datetime.timedelta(hours=1)
    # The 30th was rolled up after it ended: the page reads it from the rollups, as LATER does.
    settled = figures(scope=scope, now=now)
    assert settled.sums == figures(scope=scope, now=LATER).sums
    assert settled.series == figures(scope=scope, now=LATER).series
    visit = Appointment.objects.filter(
        clinic=net.berlin,
        starts_at__gte=at(BERLIN, 30, 0),
        starts_at__lt=at(BERLIN, 31, 0),
        status__in=(S.BOOKED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW),
    ).first()
    assert visit is not None
    Appointment.objects.filter(pk=visit.pk).update(status=S.CANCELLED, updated_at=now)
    # A late edit of a settled day shows with the next refresh, not before (the cached
    # figures stand for the rollups as they are)...
    assert figures(scope=scope, now=now).totals.cancelled == settled.totals.cancelled
    rollups_refresh(now=now + datetime.timedelta(minutes=1))
    # ...which moves the rollups' state, so the cached figures are not served again.
    after = figures(scope=scope, now=now + datetime.timedelta(minutes=2))
    assert after.totals.cancelled == settled.totals.cancelled + 1
    assert after.series[LAST].cancelled == settled.series[LAST].cancelled + 1


def test_the_live_days_add_to_the_cached_history_without_changing_it(net):
    # Built before the 30th ended: the 30th reads live and is added to the cached sums on
    # every page; the cached value must not take the live counts in.
    built = at(BERLIN, 30, 10).astimezone(datetime.UTC)
    rollups_rebuild(now=built)
    scope = berlin_scope(net)
    now = at(BERLIN, 30, 14).astimezone(datetime.UTC)
    first = figures(scope=scope, now=now)
    again = figures(scope=scope, now=now)
    assert again.sums == first.sums
    assert again.series == first.series
    assert again.heatmap == first.heatmap
    assert first.sums == figures(scope=scope, now=LATER).sums
