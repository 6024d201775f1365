"""The outbox through a real Celery broker: the on-commit nudge travels over Redis to a worker,
which claims and sends the message. Runs wherever REDIS_URL is set (always in CI)."""

import os
import time
import uuid

import pytest

from notifications.choices import MessageStatus
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs a Redis broker (REDIS_URL)")


@pytest.fixture
def live_worker():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    saved = {
        key: app.conf[key]
        for key in ("task_always_eager", "broker_url", "task_default_queue", "task_routes")
    }
    queue = f"medfront-test-{uuid.uuid4().hex[:8]}"
    # The dispatchers' own queues (critical, bulk) are routed to this test's queue, which only
    # its worker consumes.
    app.conf.update(
        task_always_eager=False,
        broker_url=REDIS_URL,
        task_default_queue=queue,
        task_routes={"notifications.tasks.*": {"queue": queue}},
    )
    try:
        with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo"):
            yield app
    finally:
        app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_sent_by_a_worker_over_the_broker(live_worker):
    message = outbox_enqueue(
        event="test.broker", channel="sms", to="+79140000001", context={"text": "hello"}
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == MessageStatus.SENT:
            break
        time.sleep(0.2)
    assert message.status == MessageStatus.SENT
    assert message.provider == "development"
    assert message.body == "hello"


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_rolled_back_change(live_worker):
    from django.db import transaction

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        outbox_enqueue(event="test.rollback", channel="sms", to="+79140000002", context={})
        raise Abort
    assert not OutboxMessage.objects.filter(event="test.rollback").exists()


def test_a_worker_keeps_the_projects_log_handlers(live_worker):
    """Celery would swap the root logger's handlers for its own unfiltered ones; the worker's
    log lines must go through the handler that scrubs phones and e-mails."""
    import logging

    from portal.logging import PiiScrubFilter

    root = logging.getLogger()
    assert any(isinstance(f, PiiScrubFilter) for h in root.handlers for f in h.filters)
