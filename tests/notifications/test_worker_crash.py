"""Acceptance: a Celery worker killed with SIGKILL in the middle of a batch strands no message
and delivers none twice.

Real worker processes (`celery -A config worker`) on Redis and the test's PostgreSQL database;
the development sender is slowed down and keeps a delivery log, one line per public id. The
first worker is killed while it sends; a second one, with a short claim timeout, takes over the
rest and the message the first one was sending. Skipped without REDIS_URL or PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from bench.messaging import worker_command
from notifications.choices import MessageStatus
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[2]
BATCH = 24
DELAY_SECONDS = 0.25
CLAIM_TIMEOUT_SECONDS = 3

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis broker (REDIS_URL)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def worker_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgresql://{credentials}@{host}/{db['NAME']}"


class Worker:
    """One `celery worker` process on the test's queue and database."""

    def __init__(self, *, queue: str, log: Path, output: Path):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": REDIS_URL,
            "DEV_OUTBOX_LOG": str(log),
            "DEV_SENDER_DELAY_SECONDS": str(DELAY_SECONDS),
            "OUTBOX_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT_SECONDS),
        }
        self.output = output.open("w")
        self.process = subprocess.Popen(
            worker_command(queue), cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.output.close()


def delivered(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [json.loads(line)["public_id"] for line in log.read_text().splitlines() if line]


def wait_for(condition, *, timeout: float, every=None, why: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if every is not None:
            every()
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting until {why}")


@pytest.fixture
def queue(monkeypatch):
    """Tasks published by this test go to a queue of its own on the Redis broker."""
    from config.celery import app
    from notifications.tasks import dispatch_due_messages

    saved = {
        key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")
    }
    name = f"medfront-crash-{uuid.uuid4().hex[:8]}"
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL, task_default_queue=name)
    # The dispatcher is routed to the `critical` queue (CELERY_TASK_ROUTES); an explicit queue
    # wins over the route, so this test's worker alone receives its dispatches.
    publish = dispatch_due_messages.apply_async
    monkeypatch.setattr(
        dispatch_due_messages,
        "apply_async",
        lambda *args, **options: publish(*args, **{**options, "queue": name}),
    )
    try:
        yield name
    finally:
        app.conf.update(saved)
        import redis

        redis.Redis.from_url(REDIS_URL).delete(name)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_strands_no_message_and_sends_none_twice(queue, tmp_path):
    from notifications.tasks import dispatch_due_messages

    log = tmp_path / "deliveries.jsonl"
    workers: list[Worker] = []
    try:
        workers.append(Worker(queue=queue, log=log, output=tmp_path / "worker-1.log"))
        with transaction.atomic():  # one transaction: its commit publishes one dispatch
            messages = [
                outbox_enqueue(
                    event="test.crash", channel="sms", to=f"+7914000{i:04d}", context={"i": i}
                )
                for i in range(BATCH)
            ]
        wait_for(lambda: len(delivered(log)) >= 6, timeout=60, why="the first worker sends")
        workers[0].kill()

        statuses = dict(OutboxMessage.objects.values_list("public_id", "status"))
        stranded = [key for key, status in statuses.items() if status == MessageStatus.SENDING]
        assert list(statuses.values()).count(MessageStatus.PENDING) > 0, "killed mid-batch"
        assert len(stranded) <= 1  # one claim at a time: only the message being sent

        workers.append(Worker(queue=queue, log=log, output=tmp_path / "worker-2.log"))
        # The beat's periodic dispatch, faster: the stranded message is due again once its
        # claim is older than the timeout.
        wait_for(
            lambda: not OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists(),
            timeout=90,
            every=dispatch_due_messages.delay,
            why="every message is sent",
        )
    finally:
        for worker in workers:
            worker.stop()

    public_ids = [str(message.public_id) for message in messages]
    assert sorted(delivered(log)) == sorted(public_ids)  # each exactly once
    for key in stranded:
        assert OutboxMessage.objects.get(public_id=key).attempts == 2
