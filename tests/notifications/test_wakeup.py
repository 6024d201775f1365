"""The dispatcher wake-up: one publish per quiet period, many requests coalesced when busy."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.test import override_settings

from notifications import wakeup
from notifications.wakeup import Wakeup


class Recorder:
    def __init__(self, fail_first: bool = False):
        self.calls = 0
        self.fail_first = fail_first
        self.changed = threading.Condition()

    def __call__(self):
        with self.changed:
            self.calls += 1
            self.changed.notify_all()
        if self.fail_first and self.calls == 1:
            raise ConnectionError("broker down")

    def wait_for(self, calls: int, timeout: float = 5.0) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.calls >= calls, timeout=timeout)
            return self.calls


def test_interval_zero_publishes_on_the_calling_thread():
    publish = Recorder()
    Wakeup(publish, 0).request()
    assert publish.calls == 1


def test_a_burst_of_requests_is_published_once_or_twice_not_once_each():
    publish = Recorder()
    coalescer = Wakeup(publish, interval=0.5)
    for _ in range(50):
        coalescer.request()
    assert publish.wait_for(1) >= 1
    time.sleep(1.2)  # past the interval: any flag raised during the burst is served by now
    assert 1 <= publish.calls <= 2


@pytest.mark.parametrize("first_publish_fails", [False, True])
def test_a_request_after_a_quiet_period_is_published_again(caplog, first_publish_fails):
    # Explicitly: a Celery worker started by another test may have raised the root level.
    caplog.set_level(logging.WARNING, logger="notifications.wakeup")
    publish = Recorder(fail_first=first_publish_fails)
    coalescer = Wakeup(publish, interval=0.05)
    coalescer.request()
    assert publish.wait_for(1) == 1
    time.sleep(0.2)
    coalescer.request()
    assert publish.wait_for(2) == 2
    # A broker that is down is logged; the thread goes on serving requests.
    assert ("could not wake the outbox dispatcher" in caplog.text) is first_publish_fails


def test_a_forked_process_starts_its_own_thread():
    publish = Recorder()
    coalescer = Wakeup(publish, interval=0.05)
    coalescer.request()
    first = coalescer._thread
    coalescer._pid = -1  # as a child process sees the parent's object after fork
    coalescer.request()
    assert coalescer._thread is not first
    assert publish.wait_for(2) == 2


@pytest.fixture
def fresh_process_wakeup(monkeypatch):
    publish = Recorder()
    monkeypatch.setattr(wakeup, "_process_wakeup", None)
    monkeypatch.setattr(wakeup, "_publish_dispatch", publish)
    return publish


@override_settings(CELERY_TASK_ALWAYS_EAGER=True, OUTBOX_WAKEUP_INTERVAL=1.0)
def test_eager_celery_dispatches_at_once(fresh_process_wakeup):
    wakeup.wake_dispatcher()
    assert fresh_process_wakeup.calls == 1
    assert wakeup._process_wakeup._thread is None


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, OUTBOX_WAKEUP_INTERVAL=0.05)
def test_with_a_broker_the_process_coalescer_publishes(fresh_process_wakeup):
    wakeup.wake_dispatcher()
    assert fresh_process_wakeup.wait_for(1) == 1
    assert wakeup._process_wakeup._thread.name == "outbox-wakeup"
