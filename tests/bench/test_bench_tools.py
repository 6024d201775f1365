"""The pure parts of the benchmark runner: percentiles, summaries, verdicts and result files.

No timing is asserted here (speed targets live in `make bench` only).
"""

import datetime
import json
import os
import subprocess
import sys
import time

import pytest

from bench import loadgen, report


def test_percentile_interpolates_between_closest_ranks():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert report.percentile(values, 50) == pytest.approx(5.5)
    assert report.percentile(values, 95) == pytest.approx(9.55)
    assert report.percentile(values, 0) == 1
    assert report.percentile(values, 100) == 10


def test_percentile_does_not_depend_on_input_order():
    assert report.percentile([9, 1, 5, 3, 7], 50) == 5
    assert report.percentile([9, 1, 5, 3, 7], 25) == 3


def test_percentile_of_one_value_is_that_value():
    assert report.percentile([0.42], 95) == pytest.approx(0.42)


@pytest.mark.parametrize("bad", [-1, 100.5])
def test_percentile_refuses_a_rank_outside_0_to_100(bad):
    with pytest.raises(ValueError):
        report.percentile([1, 2], bad)


def test_percentile_refuses_an_empty_sample():
    with pytest.raises(ValueError):
        report.percentile([], 50)


def test_summarize_counts_status_classes_and_rates():
    summary = report.summarize(
        [0.001, 0.002, 0.003, 0.004], [201, 201, 409, 500, 0], duration_s=2.0, clients=8
    )
    assert summary["requests"] == 5
    assert summary["ok"] == 2
    assert summary["status_4xx"] == 1
    assert summary["status_5xx"] == 1
    assert summary["errors"] == 1
    assert summary["ok_rps"] == 1.0
    assert summary["rps"] == 2.5
    assert summary["p50_ms"] == pytest.approx(2.5)
    assert summary["max_ms"] == pytest.approx(4.0)
    assert summary["clients"] == 8


def test_ratio_is_none_when_a_side_is_missing():
    assert report.ratio(10.0, 4.0) == 2.5
    assert report.ratio(None, 4.0) is None
    assert report.ratio(10.0, 0) is None


def test_verdicts_compare_each_target_in_its_direction():
    verdicts = report.target_verdicts(
        {
            "free_slots_p95_ratio": 41.0,
            "booking_throughput_ratio": 0.5,
            "slot_picker_p95_ratio": 15.0,
            "earliest_slots_p95_ratio": 40.5,
            "day_board_p95_ratio": 30.0,
            "connector_slots_p95_ratio": 1.51,
            "caller_id_p95_ms": 97.0,
            "assistant_reply_p95_ratio": 50.0,
            "assistant_intent_accuracy": 0.89,
            "funnel_p95_ratio": 250.0,
            "segment_count_p95_ratio": 100.5,
            "dashboard_growth_ratio": 1.5,
            "dashboard_p95_ratio": 250.1,
        }
    )
    assert verdicts == {
        "free_slots_p95_ratio": "missed",
        "booking_throughput_ratio": "met",
        "slot_picker_p95_ratio": "met",
        "earliest_slots_p95_ratio": "missed",
        "day_board_p95_ratio": "met",
        "connector_slots_p95_ratio": "missed",
        "caller_id_p95_ms": "met",
        "assistant_reply_p95_ratio": "met",
        "assistant_intent_accuracy": "missed",
        "funnel_p95_ratio": "met",
        "segment_count_p95_ratio": "missed",
        "dashboard_growth_ratio": "met",
        "dashboard_p95_ratio": "missed",
    }
    assert report.target_verdicts({})["free_slots_p95_ratio"] == "not measured"


def test_invariants_fail_on_overlaps_5xx_or_a_missing_figure():
    reminders = {"reminders_lost": 0, "reminders_duplicated": 0}
    ok = {"race_overlaps": 0, "race_5xx": 0, "history_overlaps": 0, **reminders}
    assert report.invariant_failures(ok) == []
    assert report.invariant_failures({**ok, "race_overlaps": 1}) == ["race_overlaps"]
    without_race_5xx = {key: value for key, value in ok.items() if key != "race_5xx"}
    assert report.invariant_failures(without_race_5xx) == ["race_5xx"]
    lost = {"race_overlaps": 0, "race_5xx": 0, "history_overlaps": 0, "reminders_lost": 2}
    assert report.invariant_failures(lost) == ["reminders_lost", "reminders_duplicated"]
    # A phase run alone is held to its own invariants only.
    assert report.invariant_failures({"history_overlaps": 0}, only="crm") == []
    assert report.invariant_failures({"history_overlaps": 2}, only="crm") == ["history_overlaps"]


def test_write_results_writes_the_stamped_file_and_latest(tmp_path):
    now = datetime.datetime(2026, 3, 1, 12, 30, 5, tzinfo=datetime.UTC)
    stamped, latest = report.write_results({"race_5xx": 0, "name": "бенч"}, tmp_path, now=now)
    assert stamped.name == "20260301T123005Z.json"
    assert latest.name == "latest.json"
    assert json.loads(stamped.read_text()) == {"race_5xx": 0, "name": "бенч"}
    assert latest.read_text() == stamped.read_text()
    assert not list(tmp_path.glob("*.tmp"))


def test_write_results_replaces_latest_and_keeps_older_runs(tmp_path):
    first = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    report.write_results({"run": 1}, tmp_path, now=first)
    report.write_results({"run": 2}, tmp_path, now=first + datetime.timedelta(minutes=1))
    assert json.loads((tmp_path / "latest.json").read_text()) == {"run": 2}
    assert len(list(tmp_path.glob("2026*.json"))) == 2


def test_write_results_refuses_a_naive_time(tmp_path):
    with pytest.raises(ValueError):
        report.write_results({}, tmp_path, now=datetime.datetime(2026, 3, 1))  # noqa: DTZ001


def test_the_table_shows_figures_targets_and_verdicts():
    table = report.format_table(
        {
            "free_slots_p95_ratio": 12.5,
            "booking_throughput_ratio": 0.3,
            "race_overlaps": 0,
            "race_5xx": 2,
            "queries_per_booking": 17,
            "queries_per_booking_fixed": True,
            "phases": {"trivial": {"p50_ms": 0.5, "p95_ms": 0.8}},
        }
    )
    lines = table.splitlines()
    assert lines[0].startswith("| figure | value | target | verdict |")
    assert "| free_slots_p95_ratio | 12.5 | ≤ 40 | met |" in lines
    assert "| booking_throughput_ratio | 0.3 | ≥ 0.4 | missed |" in lines
    assert "| race_5xx | 2 | = 0 | FAILED |" in lines
    assert "| queries_per_booking | 17 | fixed | fixed |" in lines
    assert any("0.5 / 0.8" in line for line in lines)


def test_the_table_shows_cpu_per_request_by_process_group_when_measured():
    cpu = {"django": 6.25, "postgresql": 2.5, "load generator": 0.75}
    table = report.format_table({"phases": {"booking": {"cpu_ms_per_request": cpu}}})
    assert "booking CPU ms: django / postgresql / load generator | 6.25 / 2.5 / 0.75 |" in table
    assert "insert CPU ms: django / postgresql / load generator | — |" in table


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cpu_by_group_counts_a_busy_process_group_and_this_process():
    # The child spins until it has used 0.5 s of CPU (however loaded the machine), says so,
    # and stays alive to be measured; this process does the same.
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "while time.process_time() < 0.5: pass\n"
            "print('spun', flush=True)\n"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        group = os.getpgid(busy.pid)
        before = loadgen.cpu_seconds_by_group(group)
        spin_until = time.process_time() + 0.3
        while time.process_time() < spin_until:
            pass
        assert busy.stdout.readline().strip() == "spun"
        after = loadgen.cpu_seconds_by_group(group)
    finally:
        busy.stdin.close()
        busy.wait(timeout=10)
    assert set(after) == {"django", "postgresql", "load generator"}
    assert after["django"] - before["django"] >= 0.1
    assert after["load generator"] - before["load generator"] >= 0.1


def test_noise_is_flagged_when_the_machine_was_busy_before_or_the_baseline_tail_is_long():
    quiet = {
        "machine": {"cores": 2},
        "load_average_at_start": [0.4, 0.5, 0.6],
        "load_average_at_end": [1.9, 1.0, 0.8],
        "phases": {"trivial": {"p50_ms": 0.5, "p95_ms": 0.9}},
    }
    assert report.noise_warnings(quiet) == []
    busy = {**quiet, "load_average_at_start": [6.0, 3.0, 1.0]}
    assert len(report.noise_warnings(busy)) == 1
    long_tail = {**quiet, "phases": {"trivial": {"p50_ms": 0.5, "p95_ms": 5.0}}}
    assert "p50" in report.noise_warnings(long_tail)[0]
