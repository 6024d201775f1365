"""The caller-ID path of issue 13: webhook received → card ready for the desk's next poll.

One sample: a signed generic "ringing" event from a seeded patient's number is POSTed, then
the registrar's caller panel is polled until its answer carries that patient's card; the
sample is the time from sending the webhook to receiving that answer (the browser's poll
interval is not counted: the figure is what the path itself costs). Each call is then ended,
untimed, so the next one rings alone. Reported as `caller_id_p95_ms` (target ≤ 200 ms).

Wiring into `bench.run` / `bench.scenario` (in-process part, then over the loopback):

    telephony = caller_id.seed(state.network)                    # after seed_and_count
    caller_id.run(port, telephony, results)                       # after the warm-up phases

`measure()` takes any `send(Request) -> Sample` (a `loadgen.Connection`, or Django's test
client in `tests/bench/test_caller_id_bench.py`), so the same code is tested in-process.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import loadgen, report

SAMPLES = 200
WARMUP_SAMPLES = 10
MAX_POLLS = 20
LINE_NUMBER = "+73952000000"
PANEL_PATH = "/telephony/desk/caller/"


@dataclass
class CallerIdState:
    webhook_path: str
    secret: str
    session_cookie: str
    callers: list[tuple[str, str]]  # (phone in E.164, patient public id)


def seed(network, *, callers: int = 50) -> CallerIdState:
    """A generic account with one line in the first clinic, a registrar answering it with a
    signed-in session (MFA passed), and the numbers of seeded patients to call from."""
    from allauth.mfa.models import Authenticator
    from django.test import Client

    from portal.auth.policy import mark_session_mfa_set_up
    from portal.choices import Role
    from portal.models import Patient, StaffMembership, User
    from telephony.models import LineAnswerer, TelephonyAccount, TelephonyLine

    clinic = network.clinics[0]
    secret = secrets.token_urlsafe(32)
    account = TelephonyAccount.objects.create(name="bench", provider="generic", secret=secret)
    line = TelephonyLine.objects.create(
        account=account, clinic=clinic, name="Reception", number=LINE_NUMBER
    )
    registrar = User.objects.create(email="bench-caller-id@bench.example.test", is_active=True)
    StaffMembership.objects.create(user=registrar, role=Role.REGISTRAR, clinic=clinic)
    # The staff MFA rule needs an authenticator on record; its secret is never read here.
    Authenticator.objects.create(
        user=registrar, type=Authenticator.Type.TOTP, data={"secret": "unused"}
    )
    LineAnswerer.objects.create(line=line, user=registrar, extension="101")
    client = Client()
    client.force_login(registrar)
    session = client.session
    mark_session_mfa_set_up(session, registrar)
    session.save()
    ids = [p.patient_public_id for p in network.patients[:callers]]
    phones = dict(Patient.objects.filter(public_id__in=ids).values_list("public_id", "phone"))
    return CallerIdState(
        webhook_path=f"/telephony/generic/{account.public_id}/events/",
        secret=secret,
        session_cookie=client.cookies["sessionid"].value,
        callers=[(phones[pk], str(pk)) for pk in phones],
    )


def _event(state: CallerIdState, call_id: str, call_state: str, phone: str) -> loadgen.Request:
    body = json.dumps(
        {
            "event_id": f"{call_id}-{call_state}",
            "call_id": call_id,
            "state": call_state,
            "from": phone,
            "to": LINE_NUMBER,
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(state.secret.encode(), stamp.encode() + body, hashlib.sha256).hexdigest()
    return loadgen.Request(
        "POST",
        state.webhook_path,
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Medfront-Timestamp": stamp,
            "X-Medfront-Signature": f"sha256={digest}",
        },
    )


def measure(
    send: Callable[[loadgen.Request], loadgen.Sample], state: CallerIdState, *, samples: int
) -> tuple[list[float], list[int]]:
    """Latencies in seconds (webhook sent → card in the panel's answer) and the statuses of
    every request made; a sample whose card never shows is left out and counted as 0."""
    poll = loadgen.Request(
        "GET",
        PANEL_PATH,
        headers={"Cookie": f"sessionid={state.session_cookie}", "HX-Request": "true"},
    )
    latencies: list[float] = []
    statuses: list[int] = []
    run = secrets.token_hex(4)
    callers = itertools.cycle(state.callers)
    for index in range(samples):
        phone, public_id = next(callers)
        call_id = f"bench-{run}-{index}"
        started = time.perf_counter()
        ring = send(_event(state, call_id, "ringing", phone))
        statuses.append(ring.status)
        shown = False
        for _ in range(MAX_POLLS):
            answer = send(poll)
            statuses.append(answer.status)
            if answer.status == 200 and answer.body and public_id.encode() in answer.body:
                shown = True
                break
        if shown:
            latencies.append(time.perf_counter() - started)
        else:
            statuses.append(0)
        statuses.append(send(_event(state, call_id, "ended", phone)).status)
    return latencies, statuses


def run(port: int, state: CallerIdState, results: dict, *, samples: int = SAMPLES) -> dict:
    """Measure over the loopback and record the phase and `caller_id_p95_ms` in `results`."""
    connection = loadgen.Connection(port)

    def send(request: loadgen.Request) -> loadgen.Sample:
        return connection.send(request, keep_body=request.method == "GET")

    measure(send, state, samples=WARMUP_SAMPLES)
    started = time.perf_counter()
    latencies, statuses = measure(send, state, samples=samples)
    summary = report.summarize(latencies, statuses, time.perf_counter() - started, clients=1)
    summary["samples"] = samples
    summary["cards_shown"] = len(latencies)
    results.setdefault("phases", {})["caller_id"] = summary
    results["caller_id_p95_ms"] = summary.get("p95_ms")
    connection.close()
    return summary


def main() -> int:
    """`python -m bench.caller_id`: the caller-ID figure alone, against gunicorn served as
    `make bench` serves it, on a throw-away database (default `medfront_bench_caller_id`)."""
    import os
    import tempfile
    from pathlib import Path

    from bench import run as bench_run

    env = dict(os.environ)
    env.setdefault(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/medfront_bench_caller_id"
    )
    cfg = bench_run.Config(env)
    samples = max(20, min(int(env.get("BENCH_CALLER_ID_SAMPLES", str(SAMPLES))), 2000))
    results: dict = {}
    with bench_run.seeded_network(cfg) as state:
        telephony = seed(state.network)
        handle, log_name = tempfile.mkstemp(prefix="medfront-bench-gunicorn-", suffix=".log")
        os.close(handle)
        # The environment `seeded_network` set up: the same throw-away keys as the seeding.
        server = bench_run.Server(cfg, dict(os.environ), Path(log_name))
        try:
            server.wait_ready()
            summary = run(server.port, telephony, results, samples=samples)
        finally:
            server.stop()
            Path(log_name).unlink(missing_ok=True)
    print(f"== bench.caller_id, {samples} calls, {cfg.workers} gunicorn workers")
    for key in ("cards_shown", "requests", "status_4xx", "status_5xx", "p50_ms", "p95_ms"):
        print(f"   {key:14s} {summary.get(key)}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
