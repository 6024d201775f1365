"""Opaque, stable, tamper-evident slot ids: (doctor, clinic, service, start) plus an HMAC."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from django.conf import settings

from portal.crypto import blind_index
from scheduling.errors import InvalidInput

_KIND = "scheduling.slot"
_MAC_LENGTH = 20


@dataclass(frozen=True)
class SlotRef:
    doctor_public_id: uuid.UUID
    clinic_public_id: uuid.UUID
    service_public_id: uuid.UUID
    start: datetime.datetime  # aware, UTC


def make_slot_id(
    *,
    doctor_public_id: uuid.UUID,
    clinic_public_id: uuid.UUID,
    service_public_id: uuid.UUID,
    start: datetime.datetime,
) -> str:
    payload = (
        f"{doctor_public_id.hex}.{clinic_public_id.hex}.{service_public_id.hex}."
        f"{int(start.timestamp())}"
    )
    mac = blind_index(_KIND, payload)[:_MAC_LENGTH]
    return base64.urlsafe_b64encode(f"{payload}.{mac}".encode()).decode().rstrip("=")


class SlotIdMaker:
    """`make_slot_id` for many slots: the key is read once and the HMAC state of each
    (doctor, clinic, service) prefix is kept and copied, so a slot costs one digest."""

    def __init__(self) -> None:
        # Same MAC as `blind_index(_KIND, payload)`.
        self._keyed = hmac.new(settings.BLIND_INDEX_KEY, f"{_KIND}\x1f".encode(), hashlib.sha256)
        self._prefixes: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], tuple[str, hmac.HMAC]] = {}

    def make(
        self,
        *,
        doctor_public_id: uuid.UUID,
        clinic_public_id: uuid.UUID,
        service_public_id: uuid.UUID,
        start: datetime.datetime,
    ) -> str:
        key = (doctor_public_id, clinic_public_id, service_public_id)
        known = self._prefixes.get(key)
        if known is None:
            prefix = f"{doctor_public_id.hex}.{clinic_public_id.hex}.{service_public_id.hex}."
            state = self._keyed.copy()
            state.update(prefix.encode())
            known = self._prefixes[key] = (prefix, state)
        prefix, state = known
        stamp = str(int(start.timestamp()))
        mac = state.copy()
        mac.update(stamp.encode())
        payload = f"{prefix}{stamp}.{mac.hexdigest()[:_MAC_LENGTH]}"
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def parse_slot_id(slot_id: str) -> SlotRef:
    """Decode and verify a slot id; any malformed or forged id raises `InvalidInput`."""
    invalid = InvalidInput(code="invalid_slot_id")
    if not isinstance(slot_id, str) or not slot_id or len(slot_id) > 200:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(slot_id + "=" * (-len(slot_id) % 4)).decode("ascii")
        doctor, clinic, service, stamp, mac = raw.split(".")
        payload = f"{doctor}.{clinic}.{service}.{stamp}"
        if not hmac.compare_digest(mac, blind_index(_KIND, payload)[:_MAC_LENGTH]):
            raise invalid
        return SlotRef(
            doctor_public_id=uuid.UUID(hex=doctor),
            clinic_public_id=uuid.UUID(hex=clinic),
            service_public_id=uuid.UUID(hex=service),
            start=datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC),
        )
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError) as exc:
        raise invalid from exc
