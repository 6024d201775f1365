"""The audit seals' sink outside the database: each seal's head, appended as it is sealed.

A head names a seal and pins its digest. Written to the `medfront.audit.seals` logger (ship it
to a host the database administrator cannot write) and, when `AUDIT_SEAL_SINK_FILE` is set,
appended to that file as one JSON line, flushed and fsynced. `verify_audit_chain` reads the
file (or an exported log, whose lines carry the same JSON) and compares it with the database:
someone who rewrites the audit tables, even holding the seal key, cannot rewrite the sink.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from portal.models import AuditSeal

seal_logger = logging.getLogger("medfront.audit.seals")
logger = logging.getLogger(__name__)

# Log lines carry the head after this marker; lines of the sink file are the bare JSON.
LOG_MARKER = "audit seal head "


@dataclass(frozen=True)
class SealHead:
    """What the sink keeps of a seal: its id, its range, its key id and its digests."""

    seal: int
    first: int
    last: int
    count: int
    key: str
    digest: str
    previous: str
    sealed_at: str

    @classmethod
    def of(cls, seal: AuditSeal) -> SealHead:
        return cls(
            seal=seal.pk,
            first=seal.first_event_id,
            last=seal.last_event_id,
            count=seal.event_count,
            key=seal.key_id,
            digest=seal.digest,
            previous=seal.previous_digest,
            sealed_at=seal.sealed_at.isoformat(),
        )

    @classmethod
    def from_json(cls, data: Any) -> SealHead:
        """Raises ValueError for anything but a complete head."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        ints = ("seal", "first", "last", "count")
        strings = ("key", "digest", "previous", "sealed_at")
        if any(type(data.get(name)) is not int for name in ints) or any(
            not isinstance(data.get(name), str) for name in strings
        ):
            raise ValueError("not a seal head")
        return cls(**{name: data[name] for name in (*ints, *strings)})

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def sink_write(seal: AuditSeal) -> None:
    """Append the head of a committed seal to the log and, if configured, the sink file.

    A failing file is logged, not raised: the seal is committed, and `verify_audit_chain`
    reports the head missing from the sink.
    """
    line = SealHead.of(seal).to_json()
    seal_logger.info("%s%s", LOG_MARKER, line)
    path = settings.AUDIT_SEAL_SINK_FILE
    if not path:
        return
    try:
        # Append mode (O_APPEND), so the file may be append-only for this user (chattr +a);
        # one write of one short line, fsynced before the sealer moves on.
        with open(path, "a", encoding="utf-8") as sink:
            sink.write(line + "\n")
            sink.flush()
            os.fsync(sink.fileno())
    except OSError as exc:
        logger.error("audit seal #%s: sink file not written (%s)", seal.pk, exc.strerror)


@dataclass
class SinkContents:
    """Heads read from one or more sinks, and where reading failed."""

    heads: list[SealHead] = field(default_factory=list)
    # "path:line" of lines that carry a head marker or JSON but no readable head, and of
    # files that could not be read.
    unreadable: list[str] = field(default_factory=list)


def sink_read(paths: Iterable[str | Path]) -> SinkContents:
    """Heads from sink files or exported logs; other log lines are skipped."""
    contents = SinkContents()
    for path in paths:
        try:
            with open(path, encoding="utf-8") as sink:
                for number, line in enumerate(sink, start=1):
                    _read_line(line, f"{path}:{number}", contents)
        except (OSError, UnicodeDecodeError) as exc:
            contents.unreadable.append(f"{path}: {exc.__class__.__name__}")
    return contents


def _read_line(line: str, where: str, contents: SinkContents) -> None:
    text = line.strip()
    if not text.startswith("{"):
        if LOG_MARKER not in text:
            return  # Another log record.
        text = text.split(LOG_MARKER, 1)[1]
    try:
        contents.heads.append(SealHead.from_json(json.loads(text)))
    except ValueError:
        contents.unreadable.append(where)
