"""`make bench`: the booking engine against its baselines, served as in production.

Steps (every one bounded in count and time; only 127.0.0.1 is contacted):

1. Recreate the PostgreSQL database named by `BENCH_DATABASE_URL` (its name must contain
   "bench"), migrate it with `bench.settings`, seed the bench network in two sizes and count
   the queries of one free-slot request and one booking at each size, in-process.
2. Start gunicorn (`config.wsgi`, DEBUG off, pooled connections, 2 × cores workers) on a
   free loopback port and drive it with one load generator (`bench.loadgen`): trivial view
   against free-slot latency, minimal insert against booking throughput (each pair taking
   turns in slices, so both see the same background load), then a booking race.
3. Send reminders through real Celery workers on Redis, killing a worker twice
   (`bench.messaging`; BENCH_REDIS_URL, BENCH_MESSAGES).
4. Run `pgbench -N` against the same server with the same clients and duration.
5. The assistant (`bench.assistant`): an anonymous first message against the trivial view,
   and the intent accuracy of the scripted dialogues (`BENCH_ONLY=assistant` runs it alone).
   `BENCH_ONLY=engine` runs steps 1 to 4 alone (the engine, the desk and the caller ID);
   `BENCH_ONLY=desk` only the registrar's day board against the trivial view (`bench.desk`).
6. Last, the CRM phase (`bench.crm`): 100,000 patients, a year of visits, 200,000 leads; the
   funnel and a segment's count against the trivial view (`BENCH_ONLY=crm` runs it alone);
   around it the director's dashboard on 10,000 and on a million visits, and the roll-up of
   one changed day (`bench.dashboard`; `BENCH_ONLY=dashboard` runs it without the leads).
   Before it, the connector phase (`bench.connector`; `BENCH_ONLY=connector` runs it alone):
   a connector clinic whose external FHIR server (a second gunicorn behind a proxy that waits
   150 ms) answers against a native clinic, on a gunicorn of its own with the shared Redis
   cache (`BENCH_REDIS_URL`).
7. Write `bench/results/<UTC stamp>.json` and `latest.json`, print a table, stop gunicorn and
   drop the database (set `BENCH_KEEP_DB=1` to keep it). Exit 1 when an invariant fails
   (overlapping bookings, a 5xx in the race, a reminder lost or sent twice, query counts that
   grow with the data); speed targets are reported, never asserted.

Environment: `BENCH_SECONDS` (per phase, default 12), `BENCH_DATABASE_URL`,
`BENCH_LATENCY_CLIENTS` (default 1), `BENCH_WORKERS` (default 2 × cores), `BENCH_ROUNDS`
(baseline and target alternate in this many slices of each phase, default 4), `BENCH_KEEP_DB`.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from bench import (
    assistant,
    caller_id,
    connector,
    crm,
    dashboard,
    desk,
    engine_seed,
    loadgen,
    messaging,
    report,
    scenario,
)
from bench.config import ROOT, Config, bench_environment
from bench.console import log
from bench.database import (
    desk_patients,
    drop_database,
    migrate,
    overlap_counts,
    recreate_database,
    setup_django,
)
from bench.pgbench import PGBENCH_CLIENTS, run_pgbench
from bench.server import Server, start_server

RESULTS_DIR = ROOT / "bench" / "results"


# --- phases ------------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{'+dirty' if dirty else ''}"


def engine_phases(cfg: Config, env: dict[str, str], results: dict) -> Server:
    """The booking engine's, the desk's and the caller ID's phases, pgbench and the race; the
    server they started is returned (running) for the phases after them."""
    log("seeding the bench network and counting queries")
    state = engine_seed.seed_and_count(cfg, results)
    log("seeding the desk's clinic (a full day booked) and counting the board's queries")
    desk_state = desk.seed_and_count(
        results, patients=desk_patients(), day=state.today + datetime.timedelta(days=1)
    )
    telephony = caller_id.seed(state.network)
    server = start_server(cfg, env, results)
    try:
        pgid = os.getpgid(server.process.pid)
        scenario.drive(
            cfg,
            server.port,
            results,
            state,
            cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
        )
        drive_desk(cfg, server, results, desk_state)
        log(f"caller ID: webhook → card in the panel, {caller_id.SAMPLES} calls")
        caller_id.run(server.port, telephony, results)
        messaging.run(env, results)
        log(f"pgbench -N, {PGBENCH_CLIENTS} clients, {int(cfg.seconds)} s")
        results["pgbench"] = run_pgbench(cfg, cfg.seconds)
        results["pgbench_tps"] = results["pgbench"]["tps"]
        scenario.race(cfg, server.port, results, state)
        results.update(overlap_counts())
        results["race_overlaps"] = results["occupancy_overlaps"] + results["appointment_overlaps"]
        scenario.ratios(results)
        desk.ratios(results)
    except BaseException:
        server.stop()
        raise
    return server


def drive_desk(cfg: Config, server: Server, results: dict, desk_state) -> None:
    """The day board's arms against the trivial view, with the server's CPU counted."""
    pgid = os.getpgid(server.process.pid)
    desk.drive(
        cfg,
        server.port,
        results,
        desk_state,
        alternate=scenario.alternate,
        phase=scenario.record_phase,
        cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
    )


def desk_phase(cfg: Config, env: dict[str, str], results: dict) -> Server:
    """The day board alone (`BENCH_ONLY=desk`): the desk's clinic booked for the patients of
    a small seeded set, counted and driven exactly as in `engine_phases`."""
    import random

    from django.utils import timezone

    from bench import seed

    log("seeding patients and the desk's clinic (a full day booked)")
    seed.seed_patients(seed.Network(), count=200, prefix="bench-desk-patient", rng=random.Random(7))
    day = timezone.localdate() + datetime.timedelta(days=1)
    desk_state = desk.seed_and_count(results, patients=desk_patients(), day=day)
    server = start_server(cfg, env, results)
    try:
        drive_desk(cfg, server, results, desk_state)
        desk.ratios(results)
    except BaseException:
        server.stop()
        raise
    return server


class _PhaseDone(Exception):
    """The phase run alone (`BENCH_ONLY`) is done before the CRM phase."""


def assistant_phase(cfg: Config, server: Server, results: dict) -> None:
    log("the assistant: first messages of the scripted dialogues, anonymous")
    pgid = os.getpgid(server.process.pid)
    assistant.run(
        cfg,
        server.port,
        results,
        alternate=scenario.alternate,
        phase=scenario.record_phase,
        cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
    )


def connector_phase(cfg: Config, env: dict[str, str], results: dict) -> None:
    """The connector clinic against the native one, on a gunicorn of its own (shared cache).

    The external FHIR server is a second gunicorn (same code and database, its own port and
    workers) behind the slow proxy, as an external system is. Served by the measured gunicorn
    itself, a page's upstream call could be accepted by the very worker waiting for it: a
    gthread worker keeps accepting connections while its one thread is busy and queues them
    behind the request in hand, so the call waited out the connector's timeout.
    """
    from django.utils import timezone

    network = connector.seed(today=timezone.localdate())
    handle, log_name = tempfile.mkstemp(prefix="medfront-bench-fhir-", suffix=".log")
    os.close(handle)
    upstream = Server(cfg, env, Path(log_name), workers=connector.UPSTREAM_WORKERS)
    server = None
    try:
        upstream.wait_ready()
        log(f"external FHIR server up on 127.0.0.1:{upstream.port}")
        server = start_server(cfg, connector.server_environment(env), results)
        pgid = os.getpgid(server.process.pid)
        connector.drive(
            cfg,
            server.port,
            results,
            network,
            upstream_port=upstream.port,
            alternate=scenario.alternate,
            phase=scenario.record_phase,
            cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
        )
    finally:
        for name, running in (("upstream", upstream), ("server", server)):
            if running is None:
                continue
            running.stop()
            tail = running.log_path.read_text()[-2000:] if running.log_path.exists() else ""
            if tail.strip():
                results.setdefault("connector", {})[f"{name}_error_log_tail"] = tail
            running.log_path.unlink(missing_ok=True)
    connector.ratios(results)


def main() -> int:
    cfg = Config(dict(os.environ))
    env = bench_environment(cfg)
    os.environ.update(env)
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)

    started = datetime.datetime.now(datetime.UTC)
    results: dict = {
        "started_at": started.isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": {
            "cores": cfg.cores,
            "python": sys.version.split()[0],
            "platform": sys.platform,
        },
        "server": {"gunicorn_workers": cfg.workers, "worker_class": "gthread", "threads": 1},
        "phase_seconds": cfg.seconds,
        "alternating_rounds": cfg.rounds,
        "latency_clients": cfg.latency_clients,
        # Other work on the machine shows up in the tails; this says how busy it was.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "phases": {},
    }
    if cfg.only:
        results["only"] = cfg.only
    server = None
    failure = None
    try:
        log(f"recreating database {cfg.database_name}")
        recreate_database(cfg)
        setup_django()
        migrate()
        if cfg.only in ("", "engine"):
            server = engine_phases(cfg, env, results)
        if cfg.only == "engine":
            raise _PhaseDone
        if cfg.only == "desk":
            server = desk_phase(cfg, env, results)
            raise _PhaseDone
        if cfg.only in ("", "assistant"):
            server = server or start_server(cfg, env, results)
            assistant_phase(cfg, server, results)
        if cfg.only == "assistant":
            raise _PhaseDone
        if cfg.only in ("", "connector"):
            connector_phase(cfg, env, results)
        if cfg.only == "connector":
            raise _PhaseDone
        # Last: its million visits would slow the engine's phases and overlap counts down.
        log("seeding the CRM: patients, a year of visits, leads, ad spend")
        board: list = []

        def measure_dashboard(suffix: str) -> None:
            nonlocal server
            if not board:
                board.append(dashboard.seed_director())
            dashboard.rebuild(results, suffix)
            dashboard.count_queries(board[0], results, suffix)
            if server is None:
                server = start_server(cfg, env, results)
            pgid = os.getpgid(server.process.pid)
            dashboard.drive(
                cfg,
                server.port,
                results,
                board[0],
                suffix=suffix,
                alternate=scenario.alternate,
                phase=scenario.record_phase,
                cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
            )

        crm_state = crm.seed(
            results,
            after_first_step=lambda: measure_dashboard("_small"),
            leads_and_spend=cfg.only != "dashboard",
        )
        if cfg.only != "dashboard":
            crm.count_queries(crm_state, results)
            if server is None:
                server = start_server(cfg, env, results)
            pgid = os.getpgid(server.process.pid)
            crm.drive(
                cfg,
                server.port,
                results,
                crm_state,
                alternate=scenario.alternate,
                phase=scenario.record_phase,
                cpu_meter=lambda: loadgen.cpu_seconds_by_group(pgid),
            )
            crm.ratios(results)
        measure_dashboard("")
        dashboard.rollup_day(board[0], results)
        dashboard.ratios(results)
    except _PhaseDone:
        pass
    except Exception:
        failure = traceback.format_exc()
        log("the benchmark stopped on an error:\n" + failure)
    finally:
        if server is not None:
            server.stop()
            log_text = server.log_path.read_text()[-4000:] if server.log_path.exists() else ""
            if log_text.strip():
                results["server"]["error_log_tail"] = log_text
            server.log_path.unlink(missing_ok=True)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up yet
            pass
        if not cfg.keep_db:
            try:
                drop_database(cfg)
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop {cfg.database_name}: {exc}")

    finished = datetime.datetime.now(datetime.UTC)
    results["finished_at"] = finished.isoformat(timespec="seconds")
    results["wall_seconds"] = round((finished - started).total_seconds(), 1)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = {key: f"{op} {bound}" for key, (op, bound) in report.TARGETS.items()}
    results["verdicts"] = report.target_verdicts(results)
    failures = report.invariant_failures(results, only=cfg.only)
    for key in (
        "queries_per_booking_fixed",
        "queries_per_free_slots_fixed",
        "queries_per_slot_picker_fixed",
        "queries_per_earliest_slots_fixed",
        "queries_per_day_board_fixed",
    ):
        if results.get(key) is False:
            failures.append(key)
    if failure:
        results["error"] = failure
        failures.append("error")
    results["invariant_failures"] = failures
    results["noise_warnings"] = report.noise_warnings(results)

    if failure or cfg.only:
        # Keep the last good and whole latest.json; this run is still recorded under its stamp.
        path = RESULTS_DIR / f"{finished.strftime('%Y%m%dT%H%M%SZ')}.json"
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        paths = (path,)
    else:
        paths = report.write_results(results, RESULTS_DIR, now=finished)
    print()
    print(report.format_table(results))
    print()
    for warning in results["noise_warnings"]:
        log(f"noise: {warning}")
    for path in paths:
        log(f"wrote {path.relative_to(ROOT)}")
    if failures:
        log("FAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
