"""Compact, stable, opaque ids for FHIR resources that have no row of their own.

FHIR ids are at most 64 characters of `[A-Za-z0-9-.]`, so the REST API's slot token does not
fit. A FHIR Slot id packs the doctor's and the service's public ids, the start instant and a
truncated HMAC into 44 bytes, written in base64url with `.` for `_` (59 characters). A Schedule
(one per doctor × clinic) packs the two public ids (43 characters). Forged or malformed ids
raise `InvalidInput`, which the views answer with 404.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import struct
import uuid
from dataclasses import dataclass

from portal.crypto import blind_index
from scheduling.errors import InvalidInput

_KIND = "fhir.slot"
_MAC_BYTES = 8


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=").replace("_", ".")


def _decode(text: str, length: int) -> bytes:
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidInput(code="invalid_id")
    try:
        raw = base64.urlsafe_b64decode(text.replace(".", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(code="invalid_id") from exc
    if len(raw) != length or _encode(raw) != text:
        raise InvalidInput(code="invalid_id")
    return raw


def _mac(payload: bytes) -> bytes:
    return bytes.fromhex(blind_index(_KIND, payload.hex()))[:_MAC_BYTES]


@dataclass(frozen=True)
class FhirSlotRef:
    doctor_public_id: uuid.UUID
    service_public_id: uuid.UUID
    start: datetime.datetime  # aware, UTC


def fhir_slot_id(
    *, doctor_public_id: uuid.UUID, service_public_id: uuid.UUID, start: datetime.datetime
) -> str:
    payload = (
        doctor_public_id.bytes + service_public_id.bytes + struct.pack(">I", int(start.timestamp()))
    )
    return _encode(payload + _mac(payload))


def parse_fhir_slot_id(text: str) -> FhirSlotRef:
    raw = _decode(text, 16 + 16 + 4 + _MAC_BYTES)
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidInput(code="invalid_id")
    (stamp,) = struct.unpack(">I", payload[32:36])
    return FhirSlotRef(
        doctor_public_id=uuid.UUID(bytes=payload[:16]),
        service_public_id=uuid.UUID(bytes=payload[16:32]),
        start=datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC),
    )


def schedule_id(*, doctor_public_id: uuid.UUID, clinic_public_id: uuid.UUID) -> str:
    return _encode(doctor_public_id.bytes + clinic_public_id.bytes)


def parse_schedule_id(text: str) -> tuple[uuid.UUID, uuid.UUID]:
    raw = _decode(text, 32)
    return uuid.UUID(bytes=raw[:16]), uuid.UUID(bytes=raw[16:])
