"""The connector phase of `make bench`: a connector-mode clinic whose external FHIR R4 server
answers in 150 ms, against a native clinic, in the same run.

The external system is a Medfront's own `/fhir/R4` (the bench network's upstream clinic, whose
doctors have schedules here), served by a second gunicorn of `UPSTREAM_WORKERS` workers
(`bench.run.connector_phase`), behind `bench.fhir_proxy`, a loopback proxy that waits
`DELAY_S` before forwarding each request and counts them. The connector clinic's doctor cards
map to the upstream doctors' FHIR schedules, as the demo's connector clinic does.

Measured, alternating (`scenario.alternate`): each doctor's page with a week of free times —
the connector clinic's doctors (times read through the connector, cached in the shared Redis
cache as in production) against the upstream clinic's same doctors (times from this engine).
The cache is warmed first (`connector_slots_p95_ratio`, target ≤ 1.5), and every request that
reached the external system from the cold start on is counted (`connector_calls_per_100`: per
100 connector-page requests, warm-up included).

The phase runs on its own gunicorn with `REDIS_URL` set (`BENCH_REDIS_URL`, a per-run key
prefix), because the slot cache is shared by every worker in production; the other phases'
server keeps its per-process cache.
"""

from __future__ import annotations

import datetime
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import loadgen, report
from bench.console import log

DELAY_S = 0.15
# The external FHIR server's workers: the proxy forwards one call at a time during the warm-up
# and the cache's rare refreshes afterwards.
UPSTREAM_WORKERS = 2
DOCTORS = 4
WEEKS = 2
SHIFT = (datetime.time(8, 0), datetime.time(20, 0))
STEP_MINUTES = 30
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Network:
    service: object
    today: datetime.date
    proxy_port: int
    # (their doctor in the upstream clinic, our card of them in the connector clinic)
    pairs: list[tuple[object, object]] = field(default_factory=list)

    def page(self, doctor, week: int) -> str:
        first = self.today + datetime.timedelta(days=7 * week)
        query = {"service": str(self.service.public_id), "from": first.isoformat()}
        return f"/doctors/{doctor.public_id}/?{urlencode(query)}"

    def paths(self, side: int) -> list[str]:
        """Every page of one side (0: native, 1: connector), doctors × weeks."""
        return [self.page(pair[side], week) for pair in self.pairs for week in range(WEEKS)]


def seed(*, today: datetime.date) -> Network:
    """The upstream (native) clinic with `DOCTORS` scheduled doctors, the connector clinic with
    a card of each, and the connector signed in with an integration token of the upstream clinic."""
    from portal.choices import IntegrationScope
    from portal.models import Clinic, LegalEntity
    from portal.services.integration_tokens import integration_token_issue
    from scheduling.choices import BookingMode, ConnectorKind
    from scheduling.fhir.ids import schedule_id
    from scheduling.models import (
        BookingPolicy,
        ClinicConnector,
        Doctor,
        ScheduleRule,
        Service,
        Specialty,
    )

    entity = LegalEntity.objects.get_or_create(
        inn="3800000003",
        defaults={
            "name": 'ООО "Медфронт Коннектор"',
            "short_name": "Медфронт Коннектор",
            "legal_address": "г. Москва, ул. Пятницкая, 1",
        },
    )[0]
    upstream, connected = (
        Clinic.objects.create(
            slug=slug,
            name=name,
            legal_entity=entity,
            city="Москва",
            address="ул. Пятницкая, 1",
            timezone="Europe/Moscow",
        )
        for slug, name in (
            ("bench-upstream", "Бенч-внешняя"),
            ("bench-connector", "Бенч-коннектор"),
        )
    )
    BookingPolicy.objects.create(clinic=upstream)
    BookingPolicy.objects.create(clinic=connected, mode=BookingMode.CONNECTOR)
    specialty = Specialty.objects.create(slug="bench-connector-therapist", name="Терапевт (К)")
    service = Service.objects.create(
        code="bench-connector-visit",
        name="Приём терапевта (К)",
        specialty=specialty,
        duration_minutes=STEP_MINUTES,
        price=Decimal(1500),
    )
    network = Network(service=service, today=today, proxy_port=free_port())
    schedules = {}
    rules = []
    for number in range(DOCTORS):
        theirs, ours = (
            Doctor.objects.create(
                last_name=f"Коннекторова{number:02d}", first_name="Бенч", languages=["ru"]
            )
            for _ in range(2)
        )
        for doctor, clinic in ((theirs, upstream), (ours, connected)):
            doctor.specialties.add(specialty)
            doctor.services.add(service)
            doctor.clinics.add(clinic)
        rules += [
            ScheduleRule(
                doctor=theirs,
                clinic=upstream,
                weekday=weekday,
                start_time=SHIFT[0],
                end_time=SHIFT[1],
                slot_step_minutes=STEP_MINUTES,
                valid_from=today - datetime.timedelta(days=7),
            )
            for weekday in range(7)
        ]
        schedules[str(ours.public_id)] = schedule_id(
            doctor_public_id=theirs.public_id, clinic_public_id=upstream.public_id
        )
        network.pairs.append((theirs, ours))
    ScheduleRule.objects.bulk_create(rules)
    _, token = integration_token_issue(
        name="Bench connector",
        scopes=[IntegrationScope.FHIR_READ, IntegrationScope.FHIR_WRITE],
        clinic=upstream,
        expires_at=None,
        actor=None,
    )
    ClinicConnector.objects.create(
        clinic=connected,
        kind=ConnectorKind.FHIR_R4,
        base_url=f"http://127.0.0.1:{network.proxy_port}/fhir/R4",
        secret=token,
        # The cold first answers of a just-started server on a busy machine can take seconds;
        # the phase measures the warm cache, not the connector's timeout.
        timeout_seconds=30,
        settings={"auth_scheme": "Bearer", "schedules": schedules},
    )
    log(
        f"connector clinic: {DOCTORS} doctors served by a FHIR server {int(DELAY_S * 1000)} ms away"
    )
    return network


def server_environment(env: dict[str, str]) -> dict[str, str]:
    """The phase's gunicorn environment: the shared Redis cache of production."""
    redis_url = env.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if urlsplit(redis_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("BENCH_REDIS_URL must point at a local Redis (127.0.0.1).")
    return {
        **env,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"bench-connector-{secrets.token_hex(4)}",
    }


class Proxy:
    """`bench.fhir_proxy` in its own process group, in front of the phase's server."""

    def __init__(self, *, port: int, upstream_port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.fhir_proxy",
                f"--port={port}",
                f"--upstream={upstream_port}",
                f"--delay={DELAY_S}",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def count(self) -> int:
        deadline = time.monotonic() + 20
        while True:
            sample = loadgen.Connection(self.port, timeout=5).send(
                loadgen.Request("GET", "/__count"), keep_body=True
            )
            if sample.status == 200:
                return int(sample.body or b"0")
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the slow FHIR proxy did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(os.getpgid(self.process.pid), signal.SIGTERM)
            self.process.wait(timeout=10)


def drive(
    cfg,
    port: int,
    results: dict,
    network: Network,
    *,
    upstream_port: int,
    alternate,
    phase,
    cpu_meter=None,
):
    """Warm the cache, then the native clinic's doctor pages against the connector clinic's;
    `upstream_port` is the external FHIR server's, which the proxy forwards to."""
    proxy = Proxy(port=network.proxy_port, upstream_port=upstream_port)
    try:
        cold = proxy.count()
        native, connected = network.paths(0), network.paths(1)
        warm_up = sum(_warm(port, path) for path in connected)
        log(f"native vs connector clinic's doctor pages (cache warm), {cfg.rounds} rounds")
        measured = alternate(
            port,
            seconds=cfg.seconds,
            rounds=cfg.rounds,
            cpu_meter=cpu_meter,
            arms={
                "native_slots": (cfg.latency_clients, lambda i: _cycle(native)),
                "connector_slots": (cfg.latency_clients, lambda i: _cycle(connected)),
            },
        )
        calls = proxy.count() - cold
    finally:
        proxy.stop()
    for name in ("native_slots", "connector_slots"):
        phase(results, name, measured[name], rounds=cfg.rounds)
    requests = warm_up + results["phases"]["connector_slots"]["requests"]
    results.setdefault("connector", {}).update(
        {
            "external_delay_ms": int(DELAY_S * 1000),
            "doctors": DOCTORS,
            "weeks": WEEKS,
            "external_calls": calls,
            "connector_page_requests": requests,
        }
    )
    results["connector_calls_per_100"] = round(100 * calls / requests, 2) if requests else None


def _warm(port: int, path: str, attempts: int = 3) -> int:
    """Request a connector page until it shows upstream times (a failed call is not cached,
    so a slow first answer is simply asked again); how many requests it took."""
    for attempt in range(1, attempts + 1):
        probe = loadgen.Connection(port, timeout=60).send(
            loadgen.Request("GET", path), keep_body=True
        )
        if probe.status == 200 and b"/book/external/" in (probe.body or b""):
            return attempt
    raise RuntimeError(
        f"the connector clinic's page showed no times ({probe.status}); "
        f"its calls: {_call_outcomes()}"
    )


def _call_outcomes() -> list[tuple[str, str, str]]:
    from scheduling.models import ConnectorCall

    return list(ConnectorCall.objects.values_list("operation", "outcome", "error_class")[:5])


def _cycle(paths: list[str]):
    for path in itertools.cycle(paths):
        yield loadgen.Request("GET", path)


def ratios(results: dict) -> None:
    phases = results.get("phases", {})
    results["connector_slots_p95_ratio"] = report.ratio(
        phases.get("connector_slots", {}).get("p95_ms"),
        phases.get("native_slots", {}).get("p95_ms"),
        2,
    )
