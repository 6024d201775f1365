"""The desk's bench phase at a tiny size: seeding a fully booked day, the board's query count at
two sizes, and the measured phase itself against a live server (no timing is asserted)."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from bench import desk, report, run, scenario
from scheduling.models import Appointment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_desk_phase_seeds_a_full_day_counts_fixed_queries_and_measures(
    live_server, monkeypatch
):
    monkeypatch.setattr(desk, "DESK_SIZES", (1, 3))
    monkeypatch.setattr(desk, "SHIFT", (datetime.time(9), datetime.time(11)))
    day = timezone.localdate() + datetime.timedelta(days=1)
    results: dict = {"phases": {}}
    patients = [PatientFactory() for _ in range(5)]
    state = desk.seed_and_count(results, patients=patients, day=day)

    assert state.doctors == 3 and state.booked == 12  # four half-hours each, all booked
    assert Appointment.objects.filter(clinic=state.clinic, status="booked").count() == 12
    assert results["queries_per_day_board_fixed"] is True
    assert set(results["desk"]["queries_by_doctors"]) == {"1", "3"}
    assert results["queries_per_day_board"] > 10, results["desk"]
    assert results["queries_per_day_board_kept_grid"] < results["queries_per_day_board"]

    port = int(live_server.url.rsplit(":", 1)[1])
    cfg = SimpleNamespace(seconds=0.4, rounds=2, latency_clients=1)
    desk.drive(
        cfg,
        port,
        results,
        state,
        alternate=scenario.alternate,
        phase=scenario.record_phase,
        trivial_path="/healthz",
    )
    board = results["phases"]["day_board"]
    assert board["requests"] > 0 and board["status_5xx"] == 0 and board["ok"] == board["requests"]
    desk.ratios(results)
    assert results["day_board_p95_ratio"] > 0


def test_the_ratio_is_left_out_when_a_phase_is_missing():
    results: dict = {"phases": {"day_board": {"p95_ms": 12.0}}}
    desk.ratios(results)
    assert results["day_board_p95_ratio"] is None


def test_the_desk_phase_runs_alone():
    assert run.Config({"BENCH_ONLY": "desk"}).only == "desk"
    # No invariant of another phase is asked of it; its fixed query count still is (`run.main`).
    assert report.invariant_failures({}, only="desk") == []
