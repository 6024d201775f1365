"""What the benchmark does to Medfront: the load phases and the race (seeding and query
counts are `bench.engine_seed`'s).

`bench.run` owns the process plumbing (database, gunicorn, pgbench, result files); this module
owns the product-specific parts and talks to the product only through its HTTP API (in-process
through Django's test client for seeding and query counts, over the loopback under load).
"""

from __future__ import annotations

import datetime
import itertools
import json
import random
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bench import loadgen, report
from bench.console import log
from bench.loadgen import json_request, repeat

if TYPE_CHECKING:
    from bench.engine_seed import State

SPECIALTY = "therapist"
SLOT_DAYS = 30
BOOKING_CLIENTS = 8
RACE_CLIENTS = 64
RACE_SLOTS = 10
# The booking phase draws from this many days of slots (the default horizon is 60 days).
BOOKING_SLOT_DAYS = 56
PATIENTS_PER_BOOKING_CLIENT = 8
WARMUP_SECONDS = 2.0


def slots_path(*, service, specialty, start: datetime.date, days: int) -> str:
    query = urlencode(
        {
            "service": str(service.public_id),
            "specialty": str(specialty.public_id),
            "start": start.isoformat(),
            "end": (start + datetime.timedelta(days=days - 1)).isoformat(),
        }
    )
    return f"/api/v1/slots/?{query}"


def measured_slots_path(network, today: datetime.date) -> str:
    """The free-slot request the benchmarks measure: one specialty, `SLOT_DAYS` days, the
    whole network."""
    return slots_path(
        service=network.services[SPECIALTY],
        specialty=network.specialties[SPECIALTY],
        start=today,
        days=SLOT_DAYS,
    )


def picker_path(network) -> str:
    """The week picker's htmx partial: one doctor of the measured specialty, one week."""
    doctor = next(d for d in network.doctors if d.specialties.filter(slug=SPECIALTY).exists())
    service = network.services[SPECIALTY]
    return f"/doctors/{doctor.public_id}/?{urlencode({'service': str(service.public_id)})}"


def earliest_path(network) -> str:
    """The earliest free times of the measured specialty's service across the network."""
    return f"/earliest/?{urlencode({'service': str(network.services[SPECIALTY].public_id)})}"


HTMX = {"HX-Request": "true"}


def booking_body(slot: dict) -> dict:
    """POST /api/v1/appointments/ for one slot of the free-slot answer (patient: the caller)."""
    return {"service": slot["service"], "doctor": slot["doctor"], "start": slot["start"]}


# --- seeding and query counts (in-process) ------------------------------------------------------


def api_client(token: str | None = None):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {token}") if token else Client()


# --- load phases (over HTTP) -------------------------------------------------------------------


def _fetch_json(port: int, path: str, token: str | None = None):
    sample = loadgen.Connection(port).send(json_request("GET", path, token=token), keep_body=True)
    if sample.status != 200:
        raise RuntimeError(f"GET {path} answered {sample.status}")
    return json.loads(sample.body)


def _phase(results: dict, name: str, phase: loadgen.PhaseResult, **extra) -> dict:
    summary = report.summarize(phase.latencies, phase.statuses, phase.duration_s, phase.clients)
    if phase.cpu_seconds is not None and summary["requests"]:
        # Per request sent (a refused booking costs CPU too); 10 ms clock ticks, so the
        # figures are good to a few hundredths of a millisecond over a whole phase.
        summary["cpu_ms_per_request"] = {
            group: round(seconds * 1000 / summary["requests"], 3)
            for group, seconds in sorted(phase.cpu_seconds.items())
        }
    summary.update(extra)
    results["phases"][name] = summary
    log(
        f"{name}: {summary['requests']} requests, {summary['ok_rps']} ok/s, "
        f"p50 {summary.get('p50_ms')} ms, p95 {summary.get('p95_ms')} ms, "
        f"4xx {summary['status_4xx']}, 5xx {summary['status_5xx']}, errors {summary['errors']}"
    )
    return summary


def _booking_plan(port: int, network, today) -> list[list[dict]]:
    """Free slots of every specialty over the booking horizon, dealt to the booking clients by
    doctor (client i books only doctors i, i+8, ...), so clients do not fight over slots."""
    by_doctor: dict[str, list[dict]] = {}
    for slug, specialty in network.specialties.items():
        path = slots_path(
            service=network.services[slug],
            specialty=specialty,
            start=today + datetime.timedelta(days=1),
            days=BOOKING_SLOT_DAYS,
        )
        for slot in _fetch_json(port, path):
            by_doctor.setdefault(slot["doctor"], []).append(slot)
    doctors = sorted(by_doctor)
    plans: list[list[dict]] = [[] for _ in range(BOOKING_CLIENTS)]
    for index, doctor in enumerate(doctors):
        plans[index % BOOKING_CLIENTS].append(by_doctor[doctor])
    # Round-robin over each client's doctors, so consecutive bookings hit different doctors.
    return [
        [slot for group in itertools.zip_longest(*lists) for slot in group if slot is not None]
        for lists in plans
    ]


def drive(cfg, port: int, results: dict, state: State, cpu_meter=None) -> None:
    """The measured phases. `cpu_meter` (see `_alternate`) adds each phase's CPU per request
    by process group to its figures."""
    network, today = state.network, state.today
    seconds = cfg.seconds
    booking_patients = network.patients[: BOOKING_CLIENTS * PATIENTS_PER_BOOKING_CLIENT]
    tokens = [
        [p.token for p in booking_patients[i::BOOKING_CLIENTS]] for i in range(BOOKING_CLIENTS)
    ]
    trivial = loadgen.Request("GET", "/bench/trivial")
    free_path = slots_path(
        service=network.services[SPECIALTY],
        specialty=network.specialties[SPECIALTY],
        start=today,
        days=SLOT_DAYS,
    )
    free = json_request("GET", free_path)
    probe = loadgen.Connection(port).send(free, keep_body=True)
    free_slots = json.loads(probe.body)
    results["free_slots_count"] = len(free_slots)
    results["free_slots_bytes"] = len(probe.body)
    results["free_slots_request"] = {
        "path": "/api/v1/slots/?service=&specialty=&start=&end=",
        "days": SLOT_DAYS,
        "specialty": SPECIALTY,
        "clinics": len(network.clinics),
        "auth": "anonymous (the endpoint is public)",
    }

    def insert_requests(i: int):
        values = itertools.count(i * 10_000_000)
        cycle = itertools.cycle(tokens[i])
        while True:
            yield json_request("POST", "/bench/insert", {"value": next(values)}, token=next(cycle))

    plans = _booking_plan(port, network, today)
    results["booking_slots_available"] = sum(len(plan) for plan in plans)
    warmup_share = 20  # slots per client spent on the warm-up

    def booking_requests(i: int, slots: list[dict]):
        cycle = itertools.cycle(tokens[i])
        for slot in slots:
            yield json_request(
                "POST", "/api/v1/appointments/", booking_body(slot), token=next(cycle), tag=i
            )

    # Built here, once: the load generator's threads must not query the database.
    picker = loadgen.Request("GET", picker_path(network), headers=dict(HTMX))
    earliest = loadgen.Request("GET", earliest_path(network))

    log("warm-up: every endpoint on every worker")
    for request_for in (
        lambda i: repeat(trivial),
        lambda i: repeat(free),
        lambda i: repeat(picker),
        lambda i: repeat(earliest),
        insert_requests,
        lambda i: booking_requests(i, plans[i][:warmup_share]),
    ):
        loadgen.run_phase(
            port=port, clients=BOOKING_CLIENTS, duration_s=WARMUP_SECONDS, requests_for=request_for
        )

    rounds = cfg.rounds
    log(
        f"trivial view vs free slots, {cfg.latency_clients} client(s), "
        f"{rounds} alternating rounds, {seconds:g} s each"
    )
    latency = _alternate(
        port,
        seconds=seconds,
        rounds=rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial": (cfg.latency_clients, lambda i: repeat(trivial)),
            "free_slots": (cfg.latency_clients, lambda i: repeat(free)),
        },
    )
    _phase(results, "trivial", latency["trivial"], rounds=rounds)
    _phase(results, "free_slots", latency["free_slots"], rounds=rounds)

    log(f"trivial view vs the portal's week picker and earliest times, {rounds} rounds")
    portal = _alternate(
        port,
        seconds=seconds,
        rounds=rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial_portal": (cfg.latency_clients, lambda i: repeat(trivial)),
            "slot_picker": (cfg.latency_clients, lambda i: repeat(picker)),
            "earliest_slots": (cfg.latency_clients, lambda i: repeat(earliest)),
        },
    )
    for name in ("trivial_portal", "slot_picker", "earliest_slots"):
        _phase(results, name, portal[name], rounds=rounds)

    log(
        f"minimal insert vs booking, {BOOKING_CLIENTS} clients over {len(network.doctors)} "
        f"doctors, {rounds} alternating rounds, {seconds:g} s each"
    )
    throughput = _alternate(
        port,
        seconds=seconds,
        rounds=rounds,
        cpu_meter=cpu_meter,
        arms={
            "insert": (BOOKING_CLIENTS, insert_requests),
            "booking": (
                BOOKING_CLIENTS,
                lambda i: booking_requests(i, plans[i][warmup_share:]),
            ),
        },
    )
    _phase(results, "insert", throughput["insert"], rounds=rounds)
    booking = throughput["booking"]
    statuses = Counter(booking.statuses)
    sent = Counter(sample.tag for sample in booking.samples)
    _phase(
        results,
        "booking",
        booking,
        rounds=rounds,
        status_counts={str(k): v for k, v in sorted(statuses.items())},
        # A client that ran out of slots stops early: then the figure understates throughput.
        clients_out_of_slots=sum(
            1 for i in range(BOOKING_CLIENTS) if sent[i] >= len(plans[i]) - warmup_share
        ),
    )


def _alternate(port: int, *, seconds: float, rounds: int, arms: dict, cpu_meter=None) -> dict:
    """Run each arm for `seconds`, split into `rounds` slices that take turns (A B A B ...),
    so a baseline and its target see the same background load of a shared machine.

    Each client keeps one request iterator across its arm's slices. `cpu_meter()`, when
    given, reads CPU seconds by process group; each arm gets the sum over its slices.
    """
    iterators: dict[tuple[str, int], object] = {}
    samples: dict[str, list] = {name: [] for name in arms}
    durations = dict.fromkeys(arms, 0.0)
    cpu: dict[str, Counter] = {name: Counter() for name in arms}
    for _ in range(rounds):
        for name, (clients, requests_for) in arms.items():

            def persistent(i: int, name=name, requests_for=requests_for):
                if (name, i) not in iterators:
                    iterators[(name, i)] = requests_for(i)
                return iterators[(name, i)]

            before = cpu_meter() if cpu_meter else {}
            phase = loadgen.run_phase(
                port=port,
                clients=clients,
                duration_s=seconds / rounds,
                requests_for=persistent,
            )
            after = cpu_meter() if cpu_meter else {}
            cpu[name].update({group: after[group] - before[group] for group in after})
            samples[name].extend(phase.samples)
            durations[name] += phase.duration_s
    return {
        name: loadgen.PhaseResult(
            samples=samples[name],
            duration_s=durations[name],
            clients=arms[name][0],
            cpu_seconds=dict(cpu[name]) if cpu_meter else None,
        )
        for name in arms
    }


def race(cfg, port: int, results: dict, state: State) -> None:
    """64 clients, each a different patient, try to book the same 10 free slots at once."""
    network, today = state.network, state.today
    rng = random.Random(64)
    # Slots beyond the booking phase's range, so nothing has touched them yet.
    day = today + datetime.timedelta(days=BOOKING_SLOT_DAYS + 1)
    path = slots_path(
        service=network.services[SPECIALTY],
        specialty=network.specialties[SPECIALTY],
        start=day,
        days=3,
    )
    candidates = _fetch_json(port, path)
    if len(candidates) < RACE_SLOTS:
        raise RuntimeError(f"only {len(candidates)} free slots for the race")
    slots = rng.sample(candidates, RACE_SLOTS)
    start = BOOKING_CLIENTS * PATIENTS_PER_BOOKING_CLIENT
    racers = network.patients[start : start + RACE_CLIENTS]
    orders = [rng.sample(range(RACE_SLOTS), RACE_SLOTS) for _ in racers]

    def requests_for(i: int):
        for index in orders[i]:
            yield json_request(
                "POST",
                "/api/v1/appointments/",
                booking_body(slots[index]),
                token=racers[i].token,
                tag=index,
            )

    log(f"race: {len(racers)} clients × the same {RACE_SLOTS} slots")
    phase = loadgen.run_phase(
        port=port, clients=len(racers), duration_s=60, requests_for=requests_for
    )
    statuses = Counter(phase.statuses)
    booked_per_slot = Counter(s.tag for s in phase.samples if s.status == 201)
    _phase(
        results,
        "race",
        phase,
        status_counts={str(k): v for k, v in sorted(statuses.items())},
        slots=RACE_SLOTS,
        max_bookings_of_one_slot=max(booked_per_slot.values(), default=0),
    )
    results["race_booked"] = statuses.get(201, 0)
    results["race_5xx"] = sum(v for k, v in statuses.items() if k >= 500)
    results["race_transport_errors"] = statuses.get(0, 0)


# The desk's phase (`bench.desk`) runs its arms and records them the same way.
def alternate(port: int, **kwargs) -> dict:
    return _alternate(port, **kwargs)


def record_phase(results: dict, name: str, phase: loadgen.PhaseResult, **extra) -> dict:
    return _phase(results, name, phase, **extra)


def ratios(results: dict) -> None:
    phases = results["phases"]
    results["free_slots_p95_ratio"] = report.ratio(
        phases["free_slots"].get("p95_ms"), phases["trivial"].get("p95_ms"), 1
    )
    results["free_slots_p50_ratio"] = report.ratio(
        phases["free_slots"].get("p50_ms"), phases["trivial"].get("p50_ms"), 1
    )
    for name in ("slot_picker", "earliest_slots"):
        results[f"{name}_p95_ratio"] = report.ratio(
            phases[name].get("p95_ms"), phases["trivial_portal"].get("p95_ms"), 1
        )
    results["booking_throughput_ratio"] = report.ratio(
        phases["booking"]["ok_rps"], phases["insert"]["ok_rps"]
    )
    results["booking_vs_pgbench_ratio"] = report.ratio(
        phases["booking"]["ok_rps"], results.get("pgbench_tps"), 4
    )
