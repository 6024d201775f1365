"""Messaging phase of `make bench`: reminders through real Celery workers on Redis.

BENCH_MESSAGES reminder messages (default 10,000; event `appointment.reminder`, the bulk lane,
each to its own number) are recorded in the outbox with due times spread over
BENCH_MESSAGING_SPREAD seconds. BENCH_MESSAGING_WORKERS `celery worker` processes (solo pool)
consume a queue of this run only, on the Redis database of BENCH_REDIS_URL, and send through
the SMS.ru sender to a fake SMS.ru on 127.0.0.1 that records every call. A beat-like loop here
publishes the bulk dispatcher every BEAT seconds. One worker is killed with SIGKILL at a third
of the sends and another at two thirds; each is restarted at once. The claim of a killed
worker's message expires after CLAIM_TIMEOUT_SECONDS (production: OUTBOX_CLAIM_TIMEOUT_SECONDS,
300 s), when it is claimed again.

Reported: `reminders_lost` (never called at the provider), `reminders_duplicated` (called more
than once) and `reminder_lag_p95_s` (due time → first provider call). Run alone with
`python -m bench.messaging` (it recreates and drops the bench database like `make bench`).
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.console import log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
BEAT_SECONDS = 1.0
CLAIM_TIMEOUT_SECONDS = 10
API_ID = "bench-messaging"
INSERT_BATCH = 1000
STANDALONE_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/medfront_bench_messaging"


class Settings:
    def __init__(self, env: dict[str, str]):
        self.count = int(env.get("BENCH_MESSAGES", "10000"))
        self.spread = float(env.get("BENCH_MESSAGING_SPREAD", "120"))
        self.workers = int(env.get("BENCH_MESSAGING_WORKERS", "2"))
        self.redis_url = env.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
        self.timeout = float(env.get("BENCH_MESSAGING_TIMEOUT", "900"))
        if not 1 <= self.count <= 100_000 or self.workers < 1 or self.spread < 0:
            raise SystemExit(
                "BENCH_MESSAGES must lie between 1 and 100000, BENCH_MESSAGING_WORKERS be at "
                "least 1 and BENCH_MESSAGING_SPREAD not negative."
            )
        host = urllib.parse.urlsplit(self.redis_url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("BENCH_REDIS_URL must point at a local Redis (127.0.0.1).")


class FakeSmsRu:
    """SMS.ru's /sms/send on 127.0.0.1: answers OK and records (number, time) of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                number = form.get("to", "")
                with fake.lock:
                    fake.calls.append((number, time.time()))
                    sms_id = f"bench-{len(fake.calls)}"
                ok = form.get("api_id") == API_ID and self.path == "/sms/send"
                result = {"status": "OK", "status_code": 100, "sms_id": sms_id}
                body = json.dumps(
                    {"status": "OK", "status_code": 100, "sms": {number: result}}
                    if ok
                    else {"status": "ERROR", "status_code": 200}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def snapshot(self) -> list[tuple[str, float]]:
        with self.lock:
            return list(self.calls)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def worker_command(queue: str) -> list[str]:
    """The command line of a `celery worker` that takes `queue` alone: a solo pool (one message
    at a time), a hostname of its own, and no gossip, mingle or heartbeat to slow its start.
    The crash acceptance test starts its workers with it too."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--queues",
        queue,
        "--pool",
        "solo",
        "--hostname",
        f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    ]


class Worker:
    """One `celery worker` (solo pool) on this run's queue, in a process group of its own."""

    def __init__(self, env: dict[str, str], queue: str, log_path: Path):
        self.log = log_path.open("a")
        self.process = subprocess.Popen(
            worker_command(queue),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """`kill -9`: no chance to finish the message it is sending or to ack its task."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


def worker_environment(base: dict[str, str], s: Settings, provider: FakeSmsRu) -> dict[str, str]:
    env = dict(base)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        REDIS_URL=s.redis_url,
        BENCH_CELERY_BROKER_URL=s.redis_url,
        CACHE_KEY_PREFIX=f"medfront-bench-{uuid.uuid4().hex[:8]}",
        NOTIFICATION_SENDERS="sms=notifications.senders.smsru.SmsRuSender",
        SMSRU_API_URL=provider.url,
        SMSRU_API_ID=API_ID,
        SMSRU_TEST="0",
        OUTBOX_CLAIM_TIMEOUT_SECONDS=str(CLAIM_TIMEOUT_SECONDS),
        LOG_LEVEL="WARNING",
    )
    return env


def number(i: int) -> str:
    return f"+7900{i:07d}"


def record_reminders(s: Settings, first_due: datetime.datetime) -> dict[str, datetime.datetime]:
    """The reminders, recorded as the reminder service records them; number → due time."""
    from django.db import transaction

    from notifications.services import outbox_message, outbox_record

    due: dict[str, datetime.datetime] = {}
    context = {
        "clinic": "Медфронт",
        "clinic_address": "ул. Карла Маркса, 1",
        "clinic_city": "Иркутск",
        "clinic_phone": "+73952000000",
        "doctor": "Иванова А. П.",
        "service": "Приём терапевта",
        "preparation": "",
        "offset_minutes": 1440,
    }
    step = s.spread / max(s.count - 1, 1)
    for start in range(0, s.count, INSERT_BATCH):
        batch = []
        for i in range(start, min(start + INSERT_BATCH, s.count)):
            at = first_due + datetime.timedelta(seconds=i * step)
            visit = at + datetime.timedelta(days=1)
            batch.append(
                outbox_message(
                    event="appointment.reminder",
                    channel="sms",
                    to=number(i),
                    language="ru",
                    due_at=at,
                    context={
                        **context,
                        "appointment_id": str(uuid.uuid4()),
                        "start": visit.isoformat(),
                    },
                )
            )
            due[number(i).lstrip("+")] = at
        with transaction.atomic():
            outbox_record(messages=batch)
    return due


def run(base_env: dict[str, str], results: dict) -> None:
    """The phase, in a process whose Django is set up on a migrated bench database."""
    import redis
    from celery import Celery

    from bench.report import percentile

    s = Settings(dict(os.environ))
    queue = f"medfront-bench-messaging-{uuid.uuid4().hex[:8]}"
    provider = FakeSmsRu()
    env = worker_environment(base_env, s, provider)
    publisher = Celery("bench-messaging", broker=s.redis_url)
    broker = redis.Redis.from_url(s.redis_url)
    log_dir = Path(tempfile.mkdtemp(prefix="medfront-bench-messaging-"))
    workers: list[Worker] = []
    kills: list[dict] = []
    try:
        log(f"messaging: {s.count} reminders, {s.workers} workers, queue {queue}")
        for n in range(s.workers):
            workers.append(Worker(env, queue, log_dir / f"worker-{n}.log"))
        # Due from a few seconds on, so the workers are up before the first one.
        first_due = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
        due = record_reminders(s, first_due)
        log("messaging: reminders recorded; dispatching")
        kill_at = [s.count // 3, 2 * s.count // 3]
        deadline = time.monotonic() + s.timeout
        started = time.monotonic()
        while time.monotonic() < deadline:
            calls = provider.snapshot()
            sent = len({n for n, _t in calls})
            if sent >= s.count:
                break
            if kill_at and sent >= kill_at[0]:
                kill_at.pop(0)
                victim = len(kills) % len(workers)
                workers[victim].kill()
                kills.append({"after_sends": sent, "at_s": round(time.monotonic() - started, 1)})
                log(f"messaging: kill -9 worker {victim} after {sent} sends; restarting it")
                workers[victim] = Worker(env, queue, log_dir / f"worker-{victim}-r{len(kills)}.log")
            # The beat's bulk dispatch, without piling up tasks nobody has taken yet.
            if broker.llen(queue) < s.workers:
                publisher.send_task("notifications.tasks.dispatch_bulk_messages", queue=queue)
            time.sleep(BEAT_SECONDS)
        # Let a duplicate that was in flight arrive before counting.
        time.sleep(2)
        calls = provider.snapshot()
    finally:
        for worker in workers:
            worker.stop()
        provider.stop()
        broker.delete(queue)
        broker.close()

    per_number = Counter(called for called, _at in calls)
    first_call: dict[str, float] = {}
    for called, at in calls:
        first_call.setdefault(called, at)
    lost = sum(1 for n in due if n not in per_number)
    duplicated = sum(1 for n, c in per_number.items() if n in due and c > 1)
    lags = [first_call[n] - due[n].timestamp() for n in due if n in first_call]
    p95 = round(percentile(lags, 95), 2) if lags else None
    phase = {
        "reminders": s.count,
        "workers": s.workers,
        "pool": "solo",
        "due_spread_s": s.spread,
        "beat_s": BEAT_SECONDS,
        "claim_timeout_s": CLAIM_TIMEOUT_SECONDS,
        "kills": kills,
        "provider_calls": len(calls),
        "lost": lost,
        "duplicated": duplicated,
        "lag_p50_s": round(percentile(lags, 50), 2) if lags else None,
        "lag_p95_s": p95,
        "lag_max_s": round(max(lags), 2) if lags else None,
        "sends_per_s": round(len(calls) / max(calls[-1][1] - calls[0][1], 1e-9), 1)
        if len(calls) > 1
        else None,
    }
    results.setdefault("phases", {})["messaging"] = phase
    results["reminders_lost"] = lost
    results["reminders_duplicated"] = duplicated
    results["reminder_lag_p95_s"] = p95
    log(
        f"messaging: lost {lost}, duplicated {duplicated}, lag p95 {p95} s, "
        f"{len(kills)} workers killed"
    )


def main() -> int:
    """`python -m bench.messaging`: this phase alone, on a bench database of its own."""
    from bench import config, database

    # A database of its own: running this alone never drops the one `make bench` uses.
    os.environ.setdefault("BENCH_DATABASE_URL", STANDALONE_DATABASE_URL)
    cfg = config.Config(dict(os.environ))
    env = config.bench_environment(cfg)
    os.environ.update(env)
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)
    results: dict = {}
    database.recreate_database(cfg)
    try:
        database.setup_django()
        database.migrate()
        run(env, results)
    finally:
        from django.db import connections

        connections.close_all()
        if not cfg.keep_db:
            database.drop_database(cfg)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 1 if results.get("reminders_lost") or results.get("reminders_duplicated") else 0


if __name__ == "__main__":
    sys.exit(main())
