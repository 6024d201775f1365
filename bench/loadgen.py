"""The one load generator every phase uses: N threads, one keep-alive connection each.

Each client thread pulls requests from its own iterator and records, per request, the latency
(from just before sending to the last byte of the answer) and the status. A phase ends at its
deadline, when a client's iterator runs dry, or at a hard request cap, whichever comes first.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

HOST = "127.0.0.1"
# A request that takes longer than this is recorded as an error (status 0).
REQUEST_TIMEOUT_S = 30.0
# Safety cap per client and phase, so a very fast server cannot make a phase unbounded.
MAX_REQUESTS_PER_CLIENT = 1_000_000


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Free-form tag the phase can use to interpret the answer (e.g. which slot was tried).
    tag: object = None


def json_request(method: str, path: str, payload=None, *, token: str | None = None, tag=None):
    headers = {"Accept": "application/json"}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    return Request(method=method, path=path, body=body, headers=headers, tag=tag)


@dataclass
class Sample:
    status: int  # 0 for a transport error or a timeout
    latency_s: float
    tag: object = None
    body: bytes | None = None


@dataclass
class PhaseResult:
    samples: list[Sample]
    duration_s: float
    clients: int
    # CPU seconds by process group over the phase (`cpu_seconds_by_group`), when measured.
    cpu_seconds: dict[str, float] | None = None

    @property
    def latencies(self) -> list[float]:
        return [s.latency_s for s in self.samples if s.status > 0]

    @property
    def statuses(self) -> list[int]:
        return [s.status for s in self.samples]


class Connection:
    """A keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT_S):
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, request: Request, *, keep_body: bool = False) -> Sample:
        headers = {"Host": f"{HOST}:{self.port}", **request.headers}
        started = time.perf_counter()
        try:
            conn = self._connection()
            conn.request(request.method, request.path, body=request.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
            latency = time.perf_counter() - started
            if response.will_close:
                self.close()
            return Sample(response.status, latency, request.tag, body if keep_body else None)
        except (OSError, http.client.HTTPException):
            self.close()
            return Sample(0, time.perf_counter() - started, request.tag, None)


def run_phase(
    *,
    port: int,
    clients: int,
    duration_s: float,
    requests_for: Callable[[int], Iterator[Request]],
    keep_body: Callable[[Request], bool] | None = None,
    max_requests_per_client: int = MAX_REQUESTS_PER_CLIENT,
) -> PhaseResult:
    """Drive `clients` concurrent keep-alive clients for at most `duration_s` seconds.

    `requests_for(i)` gives client i its requests; all clients start together at a barrier.
    The measured duration runs from the barrier to the moment the last client stopped.
    """
    per_client: list[list[Sample]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    state = {"deadline": 0.0}

    def client(index: int) -> None:
        connection = Connection(port)
        samples = per_client[index]
        requests = requests_for(index)
        try:
            barrier.wait(timeout=60)
            deadline = state["deadline"]
            for _ in range(max_requests_per_client):
                if time.perf_counter() >= deadline:
                    break
                request = next(requests, None)
                if request is None:
                    break
                samples.append(
                    connection.send(request, keep_body=bool(keep_body and keep_body(request)))
                )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(i,), name=f"bench-client-{i}", daemon=True)
        for i in range(clients)
    ]
    # The runner's heap is large (Django, the seeded network, earlier samples): a cyclic GC
    # pass inside a timed request would show up as server latency. Collect now, pause it.
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for thread in threads:
            thread.start()
        state["deadline"] = time.perf_counter() + duration_s
        started = time.perf_counter()
        barrier.wait(timeout=60)
        for thread in threads:
            # A client stops at the deadline plus at most one request's timeout.
            thread.join(timeout=duration_s + REQUEST_TIMEOUT_S + 10)
        duration = time.perf_counter() - started
    finally:
        if gc_was_enabled:
            gc.enable()
    samples = [sample for client_samples in per_client for sample in client_samples]
    return PhaseResult(samples=samples, duration_s=duration, clients=clients)


def cpu_seconds_by_group(server_pgid: int) -> dict[str, float]:
    """CPU seconds (user + system) run so far by the server's process group ("django"), by
    PostgreSQL's processes ("postgresql") and by this process ("load generator"), read from
    /proc (Linux). The difference over a phase says where a request's CPU goes under load;
    processes that exit within the phase are not counted."""
    groups = {"django": 0, "postgresql": 0, "load generator": 0}
    own = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # exited meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # After "(comm)": state ppid pgrp session ... utime (11th) stime (12th), in ticks.
        pgrp, ticks = int(fields[2]), int(fields[11]) + int(fields[12])
        if pgrp == server_pgid:
            groups["django"] += ticks
        elif comm == "postgres":
            groups["postgresql"] += ticks
        elif int(entry.name) == own:
            groups["load generator"] += ticks
    per_second = os.sysconf("SC_CLK_TCK")
    return {name: ticks / per_second for name, ticks in groups.items()}


def repeat(request: Request) -> Iterator[Request]:
    while True:
        yield request
