"""`python -m bench.cpu`: CPU per request, split between Django and its PostgreSQL backend.

Throughput on a loaded server is bounded by CPU, not by wall time, so this is the figure to
look at when a throughput ratio of `make bench` moves. Seeds the `make bench` network into a
throw-away database (default `medfront_bench_cpu`), then sends the benchmark's requests
in-process through Django's test client, one after another: the trivial view, the minimal
insert, bookings by 8 patients, and the free-slot request. For each it prints wall time, this
process's CPU (`time.process_time`) and the CPU of this connection's PostgreSQL backend
(`/proc/<pid>/schedstat`, Linux, a local server), per request, and the CPU ratios that
correspond to `make bench`'s.

Environment: `BENCH_DATABASE_URL` (must name a database containing "bench"),
`BENCH_CPU_REQUESTS` (bookings measured, default 150), `BENCH_KEEP_DB=1`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import config, database, scenario

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/medfront_bench_cpu"


def backend_cpu_ns(pid: int) -> int:
    """CPU time the PostgreSQL backend `pid` has run, in nanoseconds (first schedstat field)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def measure(label: str, send: Callable[[int], None], count: int, pid: int) -> dict:
    send(0)  # warm: prepared statements, caches
    wall, own, backend = time.perf_counter(), time.process_time(), backend_cpu_ns(pid)
    for number in range(1, count + 1):
        send(number)
    wall = (time.perf_counter() - wall) / count * 1000
    own = (time.process_time() - own) / count * 1000
    backend = (backend_cpu_ns(pid) - backend) / count / 1e6
    print(
        f"   {label:10s} wall {wall:7.2f} ms   django cpu {own:7.2f} ms   "
        f"postgresql cpu {backend:6.2f} ms   total cpu {own + backend:7.2f} ms"
    )
    return {"wall": wall, "django": own, "postgresql": backend, "total": own + backend}


def measure_all(state, bookings: int) -> dict:
    from django.db import connection

    network, today = state.network, state.today
    anonymous = scenario.api_client()
    path = scenario.measured_slots_path(network, today)
    slots = anonymous.get(path).json()
    if len(slots) < bookings + 1:
        raise RuntimeError(f"only {len(slots)} free slots for {bookings} bookings")
    clients = [
        scenario.api_client(p.token) for p in network.patients[1 : scenario.BOOKING_CLIENTS + 1]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()

    def expect(response, *statuses) -> None:
        if response.status_code not in statuses:
            raise RuntimeError(f"answered {response.status_code}: {response.content[:200]!r}")

    def trivial(_number):
        expect(anonymous.get("/bench/trivial"), 200)

    def insert(number):
        client = clients[number % len(clients)]
        body = {"value": number}
        expect(client.post("/bench/insert", data=body, content_type="application/json"), 201)

    def book(number):
        client = clients[number % len(clients)]
        body = scenario.booking_body(slots[number])
        response = client.post("/api/v1/appointments/", data=body, content_type="application/json")
        expect(response, 201)

    def free_slots(_number):
        expect(anonymous.get(path), 200)

    print("== bench.cpu, per request, one request at a time")
    out = {
        "trivial": measure("trivial", trivial, 500, pid),
        "insert": measure("insert", insert, 400, pid),
        "booking": measure("booking", book, bookings, pid),
        "free_slots": measure("free slots", free_slots, 40, pid),
    }
    total = {name: figures["total"] for name, figures in out.items()}
    print(f"   insert / booking, total cpu     {total['insert'] / total['booking']:6.3f}")
    print(f"   free slots / trivial, total cpu {total['free_slots'] / total['trivial']:6.1f}")
    return out


def main() -> int:
    env = dict(os.environ)
    env.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    cfg = config.Config(env)
    bookings = max(20, min(int(os.environ.get("BENCH_CPU_REQUESTS", "150")), 400))
    with database.seeded_network(cfg) as state:
        measure_all(state, bookings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
