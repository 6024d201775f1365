"""The CRM's phase of `make bench`: the marketer's funnel over 12 months of 200,000 leads and a
segment's live count over 100,000 patients, each against the trivial view in the same run
(`funnel_p95_ratio`, target ≤ 250; `segment_count_p95_ratio`, target ≤ 100).

Seeding (`seed`, timed as `crm.seed_seconds`) is in `bench.crm_seed`; this module counts the
pages' statements and drives the load. `BENCH_ONLY=crm python -m bench.run` runs this phase
alone (with the director's dashboard, `bench.dashboard`, which measures itself between the
history's two loads and after the CRM).
"""

from __future__ import annotations

from bench import loadgen, report
from bench.console import log
from bench.crm_seed import Crm, seed

# `bench.run` and `bench.profile` seed through this module, the phase's entry point.
__all__ = ["Crm", "count_queries", "drive", "ratios", "seed"]


# --- query counts and load --------------------------------------------------------------------


def count_queries(crm: Crm, results: dict) -> None:
    """Statements of each measured page, through the whole stack in-process (after a warm-up),
    and their answers' sizes."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = crm.cookie.split("=", 1)[1]
    pages = {
        "funnel": (crm.funnel_path(), {}),
        "segment_count": (crm.segment_count_path(), {"HTTP_HX_REQUEST": "true"}),
    }
    for name, (path, headers) in pages.items():
        counts = []
        for _attempt in range(2):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"{name} answered {response.status_code}")
            counts.append(len(ctx.captured_queries))
        results[f"queries_per_{name}"] = counts[-1]
        results["crm"][f"{name}_bytes"] = len(response.content)
    results["crm"]["segment_count_answer"] = (
        response.content.decode().split(">", 1)[1].split("<", 1)[0].strip()
    )


def drive(cfg, port: int, results: dict, crm: Crm, *, alternate, phase, cpu_meter=None) -> None:
    """The funnel and the segment count against the trivial view, taking turns."""
    cookie = {"Cookie": crm.cookie}
    trivial = loadgen.Request("GET", "/bench/trivial")
    funnel = loadgen.Request("GET", crm.funnel_path(), headers=cookie)
    count = loadgen.Request(
        "GET", crm.segment_count_path(), headers={**cookie, "HX-Request": "true"}
    )
    for request in (funnel, count):
        probe = loadgen.Connection(port).send(request)
        if probe.status != 200:
            raise RuntimeError(f"{request.path} answered {probe.status} over HTTP")
    log(f"trivial view vs the funnel (12 months) and a segment count, {cfg.rounds} rounds")
    measured = alternate(
        port,
        seconds=cfg.seconds,
        rounds=cfg.rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial_crm": (cfg.latency_clients, lambda i: loadgen.repeat(trivial)),
            "funnel": (cfg.latency_clients, lambda i: loadgen.repeat(funnel)),
            "segment_count": (cfg.latency_clients, lambda i: loadgen.repeat(count)),
        },
    )
    for name in ("trivial_crm", "funnel", "segment_count"):
        phase(results, name, measured[name], rounds=cfg.rounds)


def ratios(results: dict) -> None:
    phases = results.get("phases", {})
    trivial = phases.get("trivial_crm", {}).get("p95_ms")
    for name in ("funnel", "segment_count"):
        results[f"{name}_p95_ratio"] = report.ratio(phases.get(name, {}).get("p95_ms"), trivial, 1)
