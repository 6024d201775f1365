"""The pure parts of the benchmark: percentiles, phase summaries, the result files and table.

Nothing here touches the network, the database or Django, so it is unit-tested directly
(`tests/bench/test_bench_tools.py`).
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

# The targets of the booking-engine issue. They are reported next to the figures and never
# asserted anywhere: a slow machine must not fail a build.
TARGETS = {
    "free_slots_p95_ratio": ("<=", 40.0),
    "booking_throughput_ratio": (">=", 0.4),
    "slot_picker_p95_ratio": ("<=", 15.0),
    "earliest_slots_p95_ratio": ("<=", 40.0),
    "day_board_p95_ratio": ("<=", 30.0),
    # The booking-modes issue's (#15): a connector clinic whose system answers in 150 ms.
    "connector_slots_p95_ratio": ("<=", 1.5),
    "caller_id_p95_ms": ("<=", 200.0),
    # The assistant issue's (#18); the accuracy bound is the one its tests hold.
    "assistant_reply_p95_ratio": ("<=", 50.0),
    "assistant_intent_accuracy": (">=", 0.9),
    # The CRM issue's.
    "funnel_p95_ratio": ("<=", 250.0),
    "segment_count_p95_ratio": ("<=", 100.0),
    # The KPI dashboard issue's.
    "dashboard_growth_ratio": ("<=", 1.5),
    "dashboard_p95_ratio": ("<=", 250.0),
}
# Correctness invariants: these make `make bench` exit non-zero.
HARD_INVARIANTS = (
    "race_overlaps",
    "race_5xx",
    "history_overlaps",
    "reminders_lost",
    "reminders_duplicated",
)
# The invariants a phase run alone (`BENCH_ONLY`) can check.
PHASE_INVARIANTS = {
    "engine": ("race_overlaps", "race_5xx", "reminders_lost", "reminders_duplicated"),
    "desk": (),
    "crm": ("history_overlaps",),
    "dashboard": ("history_overlaps",),
    "assistant": (),
    "connector": (),
}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    The same definition as numpy's default ("linear"): p0 is the minimum, p100 the maximum.
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError("q must lie in [0, 100]")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(
    latencies_s: Sequence[float], statuses: Iterable[int], duration_s: float, clients: int
) -> dict:
    """One phase's figures: request count, status classes, rate, p50/p95/p99/max in ms."""
    statuses = list(statuses)
    ok = sum(1 for s in statuses if 200 <= s < 300)
    summary = {
        "requests": len(statuses),
        "ok": ok,
        "status_4xx": sum(1 for s in statuses if 400 <= s < 500),
        "status_5xx": sum(1 for s in statuses if s >= 500),
        "errors": sum(1 for s in statuses if s <= 0),
        "clients": clients,
        "duration_s": round(duration_s, 3),
        "rps": round(len(statuses) / duration_s, 1) if duration_s > 0 else 0.0,
        "ok_rps": round(ok / duration_s, 1) if duration_s > 0 else 0.0,
    }
    if latencies_s:
        ms = [value * 1000 for value in latencies_s]
        summary.update(
            p50_ms=round(percentile(ms, 50), 3),
            p95_ms=round(percentile(ms, 95), 3),
            p99_ms=round(percentile(ms, 99), 3),
            max_ms=round(max(ms), 3),
        )
    return summary


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, digits)


def target_verdicts(results: dict) -> dict[str, str]:
    """'met', 'missed' or 'not measured' for every target key."""
    verdicts = {}
    for key, (op, bound) in TARGETS.items():
        value = results.get(key)
        if value is None:
            verdicts[key] = "not measured"
        elif (op == "<=" and value <= bound) or (op == ">=" and value >= bound):
            verdicts[key] = "met"
        else:
            verdicts[key] = "missed"
    return verdicts


def invariant_failures(results: dict, *, only: str = "") -> list[str]:
    """Names of hard invariants that failed or could not be measured (those of the phase
    `only` when one phase ran alone)."""
    failures = []
    for key in PHASE_INVARIANTS.get(only, HARD_INVARIANTS):
        value = results.get(key)
        if value is None or value > 0:
            failures.append(key)
    return failures


def noise_warnings(results: dict) -> list[str]:
    """Signs that other work on the machine distorted the figures (reported, never fatal)."""
    warnings = []
    cores = results.get("machine", {}).get("cores") or 1
    # Only the load before the run says something about other work: during the run the
    # benchmark itself keeps every core busy.
    load = results.get("load_average_at_start")
    if load and load[0] > cores:
        warnings.append(f"load average at start {load[0]} exceeds {cores} cores")
    trivial = results.get("phases", {}).get("trivial", {})
    if trivial.get("p50_ms") and trivial.get("p95_ms", 0) > 3 * trivial["p50_ms"]:
        warnings.append(
            "the trivial view's p95 is over 3× its p50: its tail is other processes' noise, "
            "so free_slots_p95_ratio reads better than it is (see free_slots_p50_ratio)"
        )
    return warnings


def write_results(
    results: dict, directory: Path, *, now: datetime.datetime | None = None
) -> tuple[Path, Path]:
    """Write `<UTC timestamp>.json` and `latest.json` in `directory`; return both paths.

    Each file is written to a temporary name first and renamed, so a reader (or an interrupted
    run) never sees half a file.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    paths = (directory / f"{stamp}.json", directory / "latest.json")
    for path in paths:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return paths


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(results: dict) -> str:
    """A Markdown table of the headline figures, their targets and verdicts."""
    verdicts = target_verdicts(results)
    phases = results.get("phases", {})
    crm = results.get("crm", {})
    board = results.get("dashboard", {})

    def phase(name: str, key: str):
        return phases.get(name, {}).get(key)

    rows = [
        ("free_slots_p95_ratio", results.get("free_slots_p95_ratio"), "≤ 40"),
        ("  free_slots_p50_ratio", results.get("free_slots_p50_ratio"), ""),
        (
            "  free-slot p50 / p95, ms",
            _pair(phase("free_slots", "p50_ms"), phase("free_slots", "p95_ms")),
            "",
        ),
        (
            "  trivial view p50 / p95, ms",
            _pair(phase("trivial", "p50_ms"), phase("trivial", "p95_ms")),
            "",
        ),
        ("  slots in the free-slot answer", results.get("free_slots_count"), ""),
        ("booking_throughput_ratio", results.get("booking_throughput_ratio"), "≥ 0.4"),
        ("  bookings/s (201 only)", phase("booking", "ok_rps"), ""),
        ("  minimal insert req/s", phase("insert", "ok_rps"), ""),
        ("  booking CPU ms: django / postgresql / load generator", _cpu(phases, "booking"), ""),
        ("  insert CPU ms: django / postgresql / load generator", _cpu(phases, "insert"), ""),
        ("slot_picker_p95_ratio", results.get("slot_picker_p95_ratio"), "≤ 15"),
        (
            "  week picker p50 / p95, ms",
            _pair(phase("slot_picker", "p50_ms"), phase("slot_picker", "p95_ms")),
            "",
        ),
        ("earliest_slots_p95_ratio", results.get("earliest_slots_p95_ratio"), "≤ 40"),
        (
            "  earliest times p50 / p95, ms",
            _pair(phase("earliest_slots", "p50_ms"), phase("earliest_slots", "p95_ms")),
            "",
        ),
        (
            "  trivial view (portal phase) p50 / p95, ms",
            _pair(phase("trivial_portal", "p50_ms"), phase("trivial_portal", "p95_ms")),
            "",
        ),
        ("day_board_p95_ratio", results.get("day_board_p95_ratio"), "≤ 30"),
        (
            "  day board p50 / p95, ms",
            _pair(phase("day_board", "p50_ms"), phase("day_board", "p95_ms")),
            "",
        ),
        (
            "  trivial view (desk phase) p50 / p95, ms",
            _pair(phase("trivial_desk", "p50_ms"), phase("trivial_desk", "p95_ms")),
            "",
        ),
        ("  day_board_cold_p95_ratio", results.get("day_board_cold_p95_ratio"), ""),
        (
            "  day board changed before each request p50 / p95, ms",
            _pair(phase("day_board_cold", "p50_ms"), phase("day_board_cold", "p95_ms")),
            "",
        ),
        (
            "  trivial view (beside it) p50 / p95, ms",
            _pair(phase("trivial_desk_cold", "p50_ms"), phase("trivial_desk_cold", "p95_ms")),
            "",
        ),
        ("connector_slots_p95_ratio", results.get("connector_slots_p95_ratio"), "≤ 1.5"),
        (
            "  connector clinic's doctor page p50 / p95, ms",
            _pair(phase("connector_slots", "p50_ms"), phase("connector_slots", "p95_ms")),
            "",
        ),
        (
            "  native clinic's doctor page p50 / p95, ms",
            _pair(phase("native_slots", "p50_ms"), phase("native_slots", "p95_ms")),
            "",
        ),
        ("connector_calls_per_100", results.get("connector_calls_per_100"), ""),
        ("caller_id_p95_ms", results.get("caller_id_p95_ms"), "≤ 200"),
        (
            "  caller ID p50 ms, cards shown",
            _pair(phase("caller_id", "p50_ms"), phase("caller_id", "cards_shown")),
            "",
        ),
        ("assistant_reply_p95_ratio", results.get("assistant_reply_p95_ratio"), "≤ 50"),
        (
            "  assistant reply p50 / p95, ms",
            _pair(phase("assistant_reply", "p50_ms"), phase("assistant_reply", "p95_ms")),
            "",
        ),
        (
            "  trivial view (assistant phase) p50 / p95, ms",
            _pair(phase("trivial_assistant", "p50_ms"), phase("trivial_assistant", "p95_ms")),
            "",
        ),
        ("assistant_intent_accuracy", results.get("assistant_intent_accuracy"), "≥ 0.9"),
        ("funnel_p95_ratio", results.get("funnel_p95_ratio"), "≤ 250"),
        ("  funnel_p50_ratio", results.get("funnel_p50_ratio"), ""),
        ("  funnel p50 / p95, ms", _pair(phase("funnel", "p50_ms"), phase("funnel", "p95_ms")), ""),
        ("segment_count_p95_ratio", results.get("segment_count_p95_ratio"), "≤ 100"),
        ("  segment_count_p50_ratio", results.get("segment_count_p50_ratio"), ""),
        (
            "  segment count p50 / p95, ms",
            _pair(phase("segment_count", "p50_ms"), phase("segment_count", "p95_ms")),
            "",
        ),
        (
            "  trivial view (CRM phase) p50 / p95, ms",
            _pair(phase("trivial_crm", "p50_ms"), phase("trivial_crm", "p95_ms")),
            "",
        ),
        (
            "  CRM seed s (history load s)",
            _pair(crm.get("seed_seconds"), results.get("history_load_s")),
            "",
        ),
        ("dashboard_growth_ratio", results.get("dashboard_growth_ratio"), "≤ 1.5"),
        ("  dashboard_growth_p50_ratio", results.get("dashboard_growth_p50_ratio"), ""),
        ("dashboard_p95_ratio", results.get("dashboard_p95_ratio"), "≤ 250"),
        ("  dashboard_p50_ratio", results.get("dashboard_p50_ratio"), ""),
        (
            "  dashboard p50 / p95, ms (10,000 visits)",
            _pair(phase("dashboard_small", "p50_ms"), phase("dashboard_small", "p95_ms")),
            "",
        ),
        (
            "  dashboard p50 / p95, ms (full history)",
            _pair(phase("dashboard", "p50_ms"), phase("dashboard", "p95_ms")),
            "",
        ),
        (
            "  trivial view (dashboard) p50 / p95, ms",
            _pair(phase("trivial_dashboard", "p50_ms"), phase("trivial_dashboard", "p95_ms")),
            "",
        ),
        (
            "  queries per dashboard (10,000 / full)",
            _pair(results.get("queries_per_dashboard_small"), results.get("queries_per_dashboard")),
            "",
        ),
        ("  rollups rebuild s (full history)", board.get("rebuild_s"), ""),
        ("rollup_day_s", results.get("rollup_day_s"), ""),
        ("reminders_lost", results.get("reminders_lost"), "= 0"),
        ("reminders_duplicated", results.get("reminders_duplicated"), "= 0"),
        ("reminder_lag_p95_s", results.get("reminder_lag_p95_s"), ""),
        (
            "  reminders sent, workers killed",
            _pair(phase("messaging", "provider_calls"), len(phase("messaging", "kills") or [])),
            "",
        ),
        ("booking_vs_pgbench_ratio", results.get("booking_vs_pgbench_ratio"), ""),
        ("  pgbench -N TPS", results.get("pgbench_tps"), ""),
        ("race_booked (of 10 slots)", results.get("race_booked"), "≤ 10"),
        ("race_overlaps", results.get("race_overlaps"), "= 0"),
        ("race_5xx", results.get("race_5xx"), "= 0"),
        ("history_overlaps", results.get("history_overlaps"), "= 0"),
        ("queries_per_booking", results.get("queries_per_booking"), "fixed"),
        ("queries_per_free_slots", results.get("queries_per_free_slots"), "fixed"),
        ("queries_per_slot_picker", results.get("queries_per_slot_picker"), "fixed"),
        ("queries_per_earliest_slots", results.get("queries_per_earliest_slots"), "fixed"),
        ("queries_per_day_board", results.get("queries_per_day_board"), "fixed"),
        (
            "  board from the kept grid, queries",
            results.get("queries_per_day_board_kept_grid"),
            "",
        ),
        ("assistant_reply_queries", results.get("assistant_reply_queries"), ""),
    ]
    lines = ["| figure | value | target | verdict |", "|---|---|---|---|"]
    for name, value, target in rows:
        key = name.strip()
        if results.get("only") and value is None:
            continue  # a phase run alone: the other phases' rows are not measured
        if key in verdicts:
            verdict = verdicts[key]
        elif key in HARD_INVARIANTS:
            verdict = "ok" if value == 0 else "FAILED"
        elif key.startswith("queries_per_"):
            verdict = "fixed" if results.get(f"{key}_fixed") else "VARIES"
        else:
            verdict = ""
        lines.append(f"| {name} | {_fmt(value)} | {target} | {verdict} |")
    return "\n".join(lines)


def _cpu(phases: dict, name: str) -> str | None:
    """A phase's CPU per request by process group, as `django / postgresql / load generator`."""
    cpu = phases.get(name, {}).get("cpu_ms_per_request")
    if not cpu:
        return None
    return " / ".join(_fmt(cpu.get(group)) for group in ("django", "postgresql", "load generator"))


def _pair(first, second) -> str | None:
    if first is None or second is None:
        return None
    return f"{_fmt(first)} / {_fmt(second)}"
