"""The connector bench phase at a tiny size against a live server: the slow FHIR proxy in
front of this Medfront's `/fhir/R4` (signed in with an integration token), the seeded
connector clinic showing upstream times, the external calls counted, and the figures in the
table (no timing is asserted)."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from bench import config, connector, report, scenario


def test_the_phase_runs_alone_and_is_judged_by_its_targets():
    assert config.Config({"BENCH_ONLY": "connector"}).only == "connector"
    assert report.invariant_failures({}, only="connector") == []
    assert (
        report.target_verdicts({"connector_slots_p95_ratio": 1.4})["connector_slots_p95_ratio"]
        == "met"
    )
    assert (
        report.target_verdicts({"connector_slots_p95_ratio": 1.6})["connector_slots_p95_ratio"]
        == "missed"
    )
    results = {
        "only": "connector",
        "phases": {"connector_slots": {"p95_ms": 30.0}, "native_slots": {"p95_ms": 20.0}},
        "connector_calls_per_100": 0.5,
    }
    connector.ratios(results)
    assert results["connector_slots_p95_ratio"] == 1.5
    table = report.format_table(results)
    assert "| connector_slots_p95_ratio | 1.5 | ≤ 1.5 | met |" in table
    assert "| connector_calls_per_100 | 0.5 |" in table and "funnel" not in table


def test_the_ratio_is_left_out_when_a_phase_is_missing():
    results: dict = {"phases": {"connector_slots": {"p95_ms": 12.0}}}
    connector.ratios(results)
    assert results["connector_slots_p95_ratio"] is None


def test_the_redis_cache_must_be_local():
    env = connector.server_environment({"BENCH_REDIS_URL": "redis://127.0.0.1:6379/6"})
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/6"
    assert env["CACHE_KEY_PREFIX"].startswith("bench-connector-")
    with pytest.raises(SystemExit):
        connector.server_environment({"BENCH_REDIS_URL": "redis://10.0.0.1:6379/6"})


@pytest.mark.django_db(transaction=True)
def test_the_connector_phase_seeds_and_measures_through_the_slow_proxy(live_server):
    from scheduling.models import ConnectorCall

    network = connector.seed(today=timezone.localdate())
    assert len(network.paths(0)) == len(network.paths(1)) == connector.DOCTORS * connector.WEEKS
    results: dict = {"phases": {}}
    port = int(live_server.url.rsplit(":", 1)[1])
    cfg = SimpleNamespace(seconds=0.6, rounds=2, latency_clients=1)
    connector.drive(
        cfg,
        port,
        results,
        network,
        # The live server is threaded (one thread per request), so it may serve the upstream
        # FHIR too; the bench's gthread workers may not (see `run.connector_phase`).
        upstream_port=port,
        alternate=scenario.alternate,
        phase=scenario.record_phase,
    )
    connector.ratios(results)
    for name in ("native_slots", "connector_slots"):
        measured = results["phases"][name]
        assert measured["requests"] > 0 and measured["ok"] == measured["requests"]
    # Every page was asked once cold (one call each); warm, they came from the cache.
    calls = results["connector"]["external_calls"]
    assert calls == len(network.paths(1))
    assert ConnectorCall.objects.filter(outcome="ok").count() == calls
    expected = round(100 * calls / results["connector"]["connector_page_requests"], 2)
    assert results["connector_calls_per_100"] == expected
    assert results["connector_slots_p95_ratio"] > 0
