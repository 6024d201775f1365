"""The development sender: delivers nowhere, optionally keeping a delivery log."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from notifications.senders import Sender


class DevelopmentSender(Sender):
    """Delivers nowhere: the rendered message stays in the outbox, browsable at
    /notifications/outbox/ while DEV_OUTBOX_ENABLED is on.

    With DEV_OUTBOX_LOG naming a file, each delivery is appended to it as one JSON line (public
    id, channel, event, time; never the address or the text), once per public id, the way a
    provider honours an idempotency key. DEV_SENDER_DELAY_SECONDS makes it answer slowly after
    the delivery, like a provider that accepted a message but was slow to say so (tests only).
    """

    name = "development"

    def send(self, message) -> str:
        if settings.DEV_OUTBOX_LOG:
            log_delivery_once(Path(settings.DEV_OUTBOX_LOG), message)
        if settings.DEV_SENDER_DELAY_SECONDS:
            time.sleep(settings.DEV_SENDER_DELAY_SECONDS)
        return f"dev-{message.public_id}"


def log_delivery_once(path: Path, message) -> bool:
    """Append `message`'s delivery to the log unless its public id is there; True if appended."""
    key = str(message.public_id)
    with path.open("a+", encoding="utf-8") as log:
        # Two workers may deliver the same id at once (one of them reclaimed it): the lock makes
        # the look-up and the append one step. It is released when the file closes.
        fcntl.flock(log, fcntl.LOCK_EX)
        log.seek(0)
        lines = log.readlines()
        if key in logged_ids(lines):
            return False
        entry = {
            "public_id": key,
            "channel": message.channel,
            "event": message.event,
            "at": timezone.now().isoformat(),
        }
        # A line cut short by a crash gets its end, so the new entry stays a line of its own.
        cut_short = bool(lines) and not lines[-1].endswith("\n")
        log.write(("\n" if cut_short else "") + json.dumps(entry) + "\n")
    return True


def logged_ids(lines) -> set[str]:
    """The public ids in a delivery log's lines (a line cut short by a crash is skipped)."""
    ids = set()
    for line in lines:
        try:
            ids.add(json.loads(line)["public_id"])
        except (ValueError, KeyError, TypeError):
            continue
    return ids
