"""Waking the outbox dispatcher: at once when a process has been quiet, at most once per
interval when it is busy.

Every transaction that records a due message wants the dispatcher to run soon. Publishing one
Celery task per transaction costs a broker round trip on the request's path and, under load,
queues many dispatcher runs that each find the outbox already drained by the first. Instead a
committed transaction only raises a flag; a daemon thread of the process publishes one task for
every flag raised since its last publish, then waits `OUTBOX_WAKEUP_INTERVAL` seconds before it
may publish again. A message therefore leaves at most one interval later than with a task per
transaction, and the beat schedule's periodic dispatch still covers a process that dies with a
flag raised.

With `CELERY_TASK_ALWAYS_EAGER` (tests, the demo) or an interval of 0 the task runs at once,
on the committing thread, as before.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)


def _publish_dispatch() -> None:
    from notifications.tasks import dispatch_due_messages

    dispatch_due_messages.delay()


class Wakeup:
    """One per process: `request()` from any thread, publishes from its own daemon thread."""

    def __init__(self, publish: Callable[[], None], interval: float):
        self.publish = publish
        self.interval = interval
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def request(self) -> None:
        if self.interval <= 0:
            self.publish()
            return
        self._ensure_thread()
        self._wanted.set()

    def _running_here(self) -> bool:
        # A forked worker inherits the object but not the thread: one thread per process.
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def _ensure_thread(self) -> None:
        if self._running_here():
            return
        with self._lock:
            if self._running_here():
                return
            self._wanted = threading.Event()
            self._thread = threading.Thread(
                target=self._run, name="outbox-wakeup", daemon=True, args=(self._wanted,)
            )
            self._pid = os.getpid()
            self._thread.start()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            wanted.clear()
            try:
                self.publish()
            except Exception:  # the broker may be down; the periodic dispatch still runs
                logger.warning("could not wake the outbox dispatcher", exc_info=True)
            # Flags raised meanwhile are served by the next publish, one interval later.
            time.sleep(self.interval)


_process_wakeup: Wakeup | None = None


def wake_dispatcher() -> None:
    """Ask for a dispatcher run soon (see the module's text)."""
    global _process_wakeup
    eager = getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    interval = 0.0 if eager else float(settings.OUTBOX_WAKEUP_INTERVAL)
    if _process_wakeup is None or _process_wakeup.interval != interval:
        _process_wakeup = Wakeup(_publish_dispatch, interval)
    _process_wakeup.request()
