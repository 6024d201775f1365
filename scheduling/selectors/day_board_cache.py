"""The day board's rendered grid, kept in the cache until the board's version moves.

A full board (forty doctors, a thousand visits and free times) costs tens of milliseconds to
read and write out, and the desk asks for it on every visit of the page and every poll that
found a change. The grid is kept per clinic, day, filters, language and what the viewer may do
(book, open patients' cards), under the board's version (`day_board_version`), so a booking,
a move or time passing where it shows (a minute on today's board) makes the next request read
and render again.

The grid carries patients' surnames: it is stored compressed, then encrypted (`portal.crypto`,
the field keys), and under a keyed name (the cache's `KEY_FUNCTION`). The full board's HTML
(about 280 KB) compresses about sixfold, so a warm read decrypts and moves a sixth of it:
decompressing costs less than the decryption and base64 it saves. It holds no CSRF token and
nothing of the viewer beyond the capabilities named in its key.

What the version's query cannot see (a doctor, service or patient renamed, a doctor joining
the clinic, a stand-in, a room closed, a quota or the clinic's policy changed, a rule or
exception deleted) moves the board generation that every version includes
(`day_board.bump_board_generation`, called from `scheduling.signals`).
"""

from __future__ import annotations

import datetime
import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from portal.crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from scheduling.selectors.day_board import DayBoard, ServiceChoice

# Today's version holds the minute, so today's entry is useless after it; another day's holds
# the date only and stays good until the board changes. The timeout frees memory.
GRID_SECONDS = 600
# The fastest level: the HTML's repetition is what compresses, higher levels gain a few percent
# for several times the cost on the render that keeps it.
COMPRESSION_LEVEL = 1


@dataclass(frozen=True)
class BoardKey:
    """What the rendered grid depends on besides the data the version covers."""

    clinic_id: int
    day: datetime.date
    doctor: uuid.UUID | None
    service: uuid.UUID | None
    patient: uuid.UUID | None
    released: bool
    language: str
    can_book: bool
    can_open: bool
    version: str

    def cache_key(self) -> str:
        parts = [
            # "z": compressed entries (an entry of another format is never read as one).
            "scheduling:day-board:grid:z",
            str(self.clinic_id),
            self.day.isoformat(),
            str(self.doctor or ""),
            str(self.service or ""),
            str(self.patient or ""),
            "r" if self.released else "",
            self.language,
            "b" if self.can_book else "",
            "o" if self.can_open else "",
            self.version,
        ]
        return "|".join(parts)


@dataclass(frozen=True)
class BoardSummary:
    """What the page around the grid shows of the board (toolbar and legend): the doctors and
    services to choose from, the service shown, the zone and the day's count of each status."""

    zone: str
    utc_offset: str
    doctors: list[tuple[uuid.UUID, str]]
    services: list[ServiceChoice]
    service: ServiceChoice | None
    status_counts: dict[str, int]
    show_released: bool

    @classmethod
    def of(cls, board: DayBoard) -> BoardSummary:
        shown = board.service
        return cls(
            zone=board.zone,
            utc_offset=board.utc_offset,
            doctors=board.doctors,
            services=board.services,
            service=next(
                (s for s in board.services if shown and s.public_id == shown.public_id), None
            ),
            status_counts=board.status_counts,
            show_released=board.show_released,
        )


@dataclass(frozen=True)
class CachedBoard:
    summary: BoardSummary
    grid: SafeString


def _choice_out(choice: ServiceChoice) -> list[Any]:
    return [str(choice.public_id), choice.name, choice.specialty, choice.duration_minutes]


def _choice_in(row: list[Any]) -> ServiceChoice:
    return ServiceChoice(
        public_id=uuid.UUID(row[0]), name=row[1], specialty=row[2], duration_minutes=row[3]
    )


def _dumps(entry: CachedBoard) -> str:
    summary = entry.summary
    return json.dumps(
        {
            "zone": summary.zone,
            "utc_offset": summary.utc_offset,
            "doctors": [[str(public_id), name] for public_id, name in summary.doctors],
            "services": [_choice_out(choice) for choice in summary.services],
            "service": _choice_out(summary.service) if summary.service else None,
            "status_counts": summary.status_counts,
            "show_released": summary.show_released,
            "grid": str(entry.grid),
        },
        ensure_ascii=False,
    )


def _loads(text: str) -> CachedBoard:
    data = json.loads(text)
    summary = BoardSummary(
        zone=data["zone"],
        utc_offset=data["utc_offset"],
        doctors=[(uuid.UUID(public_id), name) for public_id, name in data["doctors"]],
        services=[_choice_in(row) for row in data["services"]],
        service=_choice_in(data["service"]) if data["service"] else None,
        status_counts=data["status_counts"],
        show_released=data["show_released"],
    )
    # It was rendered by the board's template, which escapes every value, then encrypted.
    return CachedBoard(summary=summary, grid=mark_safe(data["grid"]))  # noqa: S308


def cached_board(key: BoardKey) -> CachedBoard | None:
    """The grid kept under `key`, or None (never kept, expired, kept under a retired
    encryption key or in another format)."""
    token = cache.get(key.cache_key())
    if not isinstance(token, bytes):
        return None
    try:
        return _loads(zlib.decompress(decrypt_bytes(token)).decode("utf-8"))
    except (DecryptionError, zlib.error):
        return None


def keep_board(key: BoardKey, entry: CachedBoard) -> None:
    packed = zlib.compress(_dumps(entry).encode("utf-8"), COMPRESSION_LEVEL)
    cache.set(key.cache_key(), encrypt_bytes(packed), timeout=GRID_SECONDS)
