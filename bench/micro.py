"""`python -m bench.micro`: in-process before/after figures for the free-slot and booking paths.

Seeds the `make bench` network into a throw-away PostgreSQL database (default
`medfront_bench_micro`, so it never collides with a running `make bench`), then prints, best of
`BENCH_MICRO_REPEAT` (default 30) runs on the same data:

- `free_slots()` for one specialty x 30 days x the whole network, `slot_dicts()` of its answer
  and the whole GET /api/v1/slots/ request through Django's test client, with its query count;
- serial bookings through POST /api/v1/appointments/ (best and median), with the queries of one;
- the trivial view and the minimal insert endpoint of `make bench`, and the in-process ratios.

Run it on two commits to compare them; the figures are for comparing, `make bench` reports.
Environment: `BENCH_DATABASE_URL` (must name a database containing "bench"),
`BENCH_MICRO_REPEAT`, `BENCH_KEEP_DB=1`, `BENCH_MICRO_PROFILE=1` (cProfile of `free_slots()`),
`BENCH_MICRO_SQL=1` (SQL of one booking).
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time

from bench import config, database, scenario

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/medfront_bench_micro"


def _best(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def measure(state, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.api.slots import slot_dicts
    from scheduling.selectors.availability import free_slots

    network, today = state.network, state.today
    service = network.services[scenario.SPECIALTY]
    specialty = network.specialties[scenario.SPECIALTY]
    end = today + datetime.timedelta(days=scenario.SLOT_DAYS - 1)
    anonymous = scenario.api_client()
    path = scenario.slots_path(
        service=service, specialty=specialty, start=today, days=scenario.SLOT_DAYS
    )

    def engine():
        return free_slots(service=service, specialty=specialty, start_date=today, end_date=end)

    slots = engine()
    anonymous.get(path)  # warm per-process caches
    out = {"slots": len(slots)}
    out["free_slots_ms"] = _best(engine, repeat)
    if os.environ.get("BENCH_MICRO_PROFILE") == "1":
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [engine() for _ in range(repeat)])
        pstats.Stats(profile).strip_dirs().sort_stats("tottime").print_stats(25)
    out["slot_dicts_ms"] = _best(lambda: slot_dicts(slots, price=service.price), repeat)
    out["request_ms"] = _best(lambda: anonymous.get(path), repeat)
    with CaptureQueriesContext(connection) as ctx:
        answer = anonymous.get(path).json()
    out["request_queries"] = len(ctx.captured_queries)

    client = scenario.api_client(network.patients[1].token)
    picks = answer[-(repeat + 2) :]

    def book(slot) -> None:
        response = client.post(
            "/api/v1/appointments/",
            data=scenario.booking_body(slot),
            content_type="application/json",
        )
        if response.status_code != 201:
            raise RuntimeError(f"booking answered {response.status_code}: {response.content!r}")

    book(picks[0])  # warm
    with CaptureQueriesContext(connection) as ctx:
        book(picks[1])
    out["booking_queries"] = len(ctx.captured_queries)
    if os.environ.get("BENCH_MICRO_SQL") == "1":
        for number, query in enumerate(ctx.captured_queries, 1):
            print(f"{number:3d} {query['sql'][:220]}")
    times = []
    for slot in picks[2:]:
        started = time.perf_counter()
        book(slot)
        times.append((time.perf_counter() - started) * 1000)
    out["booking_ms"] = (min(times), statistics.median(times))
    # The two baselines of `make bench`, through the same test client: in-process proxies of
    # its ratios (the served figures differ, but move together with these).
    out["trivial_ms"] = _best(lambda: anonymous.get("/bench/trivial"), repeat)
    values = iter(range(10**6))
    out["insert_ms"] = _best(
        lambda: client.post(
            "/bench/insert", data={"value": next(values)}, content_type="application/json"
        ),
        repeat,
    )
    return out


def main() -> int:
    env = dict(os.environ)
    env.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    cfg = config.Config(env)
    repeat = max(3, min(int(os.environ.get("BENCH_MICRO_REPEAT", "30")), 200))
    with database.seeded_network(cfg) as state:
        out = measure(state, repeat)
    print(f"== bench.micro, best / median of {repeat}")
    print(f"   slots in answer            {out['slots']}")
    for key in (
        "free_slots_ms",
        "slot_dicts_ms",
        "request_ms",
        "booking_ms",
        "trivial_ms",
        "insert_ms",
    ):
        best, median = out[key]
        print(f"   {key:26s} {best:8.2f} / {median:8.2f} ms")
    print(f"   request / trivial (best)   {out['request_ms'][0] / out['trivial_ms'][0]:8.1f}")
    print(f"   insert / booking (best)    {out['insert_ms'][0] / out['booking_ms'][0]:8.3f}")
    print(f"   queries per slot request   {out['request_queries']}")
    print(f"   queries per booking        {out['booking_queries']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
