"""FHIR R4 connector: free slots by `Slot` search, verification by reading the `Slot`, booking
with `POST Appointment`, cancelling with `PUT Appointment/<id>` (status `cancelled`).

Settings (`options`): `schedules` maps our doctors' public ids to the server's Schedule ids;
a service is asked for by its code as the `service-type` token. The secret is sent as
`Authorization: Token <secret>` (a Medfront server's API token of a person) or, with
`"auth_scheme": "Bearer"`, as a bearer token (a Medfront integration token, other servers).
The patient is referenced by their network-wide public id, as servers of the same network
know them.

Answers are checked, not trusted: a Bundle that is not one, a Slot without a start, or a
status code outside the protocol raise `BadPayload`. A 409 (or 404/410 for a slot) means the
slot is gone; a 422 is the server's booking rule (`BookingRefused`); 5xx, 401 and 403 mean it
cannot serve us now (`ConnectorUnavailable`).
"""

from __future__ import annotations

import datetime
import json
import urllib.parse
import uuid
from typing import Any

from . import http
from .base import (
    BadPayload,
    BookingOrder,
    BookingRefused,
    ConnectorSettings,
    ConnectorUnavailable,
    ExternalAppointment,
    ExternalSlot,
    Health,
    NotConfigured,
    SlotGone,
    SlotQuery,
    register,
)

FHIR_JSON = "application/fhir+json"
MAX_SLOTS = 2000  # per search: more than any clinic's week of one service


def parse_instant(value: Any) -> datetime.datetime:
    """A FHIR instant (with its offset) → aware UTC datetime; `BadPayload` otherwise."""
    if not isinstance(value, str):
        raise BadPayload("instant missing")
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadPayload("instant malformed") from exc
    if parsed.tzinfo is None:
        raise BadPayload("instant without offset")
    return parsed.astimezone(datetime.UTC)


def outcome_text(answer: http.Answer) -> str:
    """The diagnostics of an OperationOutcome answer, or ""."""
    try:
        data = json.loads(answer.body)
        issues = data.get("issue") or []
        return " ".join(str(i.get("diagnostics", "")) for i in issues if isinstance(i, dict))
    except (ValueError, AttributeError, TypeError):
        return ""


@register("fhir_r4")
class FhirConnector:
    kind = "fhir_r4"
    can_book = True

    def __init__(self, settings: ConnectorSettings) -> None:
        self.base = settings.base_url.rstrip("/")
        self.timeout = settings.timeout
        self.secret = settings.secret
        self.scheme = str(settings.options.get("auth_scheme") or "Token")
        schedules = settings.options.get("schedules") or {}
        self.schedules: dict[str, str] = {str(k): str(v) for k, v in dict(schedules).items()}

    # --- HTTP ---

    def _headers(self, *, body: bool = False) -> dict[str, str]:
        headers = {"Accept": FHIR_JSON}
        if body:
            headers["Content-Type"] = FHIR_JSON
        if self.secret:
            headers["Authorization"] = f"{self.scheme} {self.secret}"
        return headers

    def _call(self, method: str, path: str, payload: Any = None, **headers: str) -> http.Answer:
        body = None if payload is None else json.dumps(payload).encode()
        answer = http.call(
            method,
            f"{self.base}/{path}",
            timeout=self.timeout,
            headers={**self._headers(body=body is not None), **headers},
            body=body,
        )
        if answer.status >= 500 or answer.status in (401, 403, 429):
            raise ConnectorUnavailable(f"HTTP {answer.status}")
        return answer

    # --- Reading ---

    def _schedule_of(self, doctor_public_id: uuid.UUID) -> str:
        schedule = self.schedules.get(str(doctor_public_id))
        if not schedule:
            raise NotConfigured("doctor has no schedule")
        return schedule

    def _doctor_of(self, schedule_reference: Any) -> uuid.UUID | None:
        if not isinstance(schedule_reference, str):
            raise BadPayload("slot without schedule")
        schedule = schedule_reference.rsplit("/", 1)[-1]
        for doctor, mapped in self.schedules.items():
            if mapped == schedule:
                return uuid.UUID(doctor)
        return None

    def _slot(self, resource: Any, service_code: str) -> ExternalSlot | None:
        """A free Slot resource of one of our doctors → `ExternalSlot` (None: not ours)."""
        if not isinstance(resource, dict) or resource.get("resourceType") != "Slot":
            raise BadPayload("not a Slot")
        slot_id = resource.get("id")
        if not isinstance(slot_id, str) or not 0 < len(slot_id) <= 64:
            raise BadPayload("slot id")
        doctor = self._doctor_of((resource.get("schedule") or {}).get("reference"))
        if doctor is None or resource.get("status") != "free":
            return None
        start, end = parse_instant(resource.get("start")), parse_instant(resource.get("end"))
        if end <= start:
            raise BadPayload("slot ends before it starts")
        return ExternalSlot(slot_id, doctor, service_code, start, end)

    def free_slots(self, query: SlotQuery) -> list[ExternalSlot]:
        doctors = (
            [str(query.doctor_public_id)] if query.doctor_public_id else sorted(self.schedules)
        )
        found: list[ExternalSlot] = []
        for doctor in doctors:
            params = [
                ("schedule", f"Schedule/{self._schedule_of(uuid.UUID(doctor))}"),
                ("service-type", query.service_code),
                ("status", "free"),
                ("start", "ge" + query.start.astimezone(datetime.UTC).isoformat()),
                ("start", "lt" + query.end.astimezone(datetime.UTC).isoformat()),
                ("_count", str(MAX_SLOTS)),
            ]
            answer = self._call("GET", "Slot?" + urllib.parse.urlencode(params))
            if answer.status == 404:
                raise NotConfigured("schedule or service unknown to the server")
            if answer.status != 200:
                raise BadPayload(f"HTTP {answer.status}")
            bundle = answer.json()
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                raise BadPayload("not a Bundle")
            entries = bundle.get("entry") or []
            if not isinstance(entries, list):
                raise BadPayload("entries")
            for entry in entries[:MAX_SLOTS]:
                slot = self._slot((entry or {}).get("resource"), query.service_code)
                if slot is not None and query.start <= slot.start < query.end:
                    found.append(slot)
        found.sort(key=lambda s: (s.start, str(s.doctor_public_id)))
        return found

    def verify(self, slot: ExternalSlot) -> ExternalSlot:
        answer = self._call("GET", f"Slot/{urllib.parse.quote(slot.external_id)}")
        if answer.status in (404, 410):
            raise SlotGone("slot no longer offered")
        if answer.status != 200:
            raise BadPayload(f"HTTP {answer.status}")
        current = self._slot(answer.json(), slot.service_code)
        if current is None or (current.start, current.end) != (slot.start, slot.end):
            raise SlotGone("slot changed")
        return current

    # --- Writing ---

    def _appointment(self, answer: http.Answer) -> ExternalAppointment:
        data = answer.json()
        if not isinstance(data, dict) or data.get("resourceType") != "Appointment":
            raise BadPayload("not an Appointment")
        external_id = data.get("id")
        if not isinstance(external_id, str) or not 0 < len(external_id) <= 64:
            raise BadPayload("appointment id")
        return ExternalAppointment(
            external_id=external_id,
            start=parse_instant(data.get("start")),
            end=parse_instant(data.get("end")),
            status=str(data.get("status") or ""),
        )

    def book(self, order: BookingOrder) -> ExternalAppointment:
        resource = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{order.slot.external_id}"}],
            "start": order.slot.start.isoformat(),
            "end": order.slot.end.isoformat(),
            "participant": [
                {
                    "actor": {"reference": f"Patient/{order.patient_public_id}"},
                    "status": "accepted",
                }
            ],
        }
        # The same order sent twice (a retry after a lost answer) books once on servers that
        # honour idempotency keys, as Medfront's does.
        key = f"{order.patient_public_id}:{order.slot.external_id}"
        answer = self._call(
            "POST",
            "Appointment",
            resource,
            **{"Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, key))},
        )
        if answer.status in (409, 404, 410):
            raise SlotGone(outcome_text(answer)[:200] or "slot taken")
        if answer.status == 422:
            raise BookingRefused(outcome_text(answer))
        if answer.status not in (200, 201):
            raise BadPayload(f"HTTP {answer.status}")
        return self._appointment(answer)

    def cancel(self, external_id: str) -> None:
        path = f"Appointment/{urllib.parse.quote(external_id)}"
        answer = self._call("GET", path)
        if answer.status == 404:
            return  # Nothing to cancel there any more.
        if answer.status != 200:
            raise BadPayload(f"HTTP {answer.status}")
        resource = answer.json()
        if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
            raise BadPayload("not an Appointment")
        if resource.get("status") == "cancelled":
            return
        answer = self._call("PUT", path, {**resource, "status": "cancelled"})
        if answer.status == 409 or answer.status == 422:
            raise BookingRefused(outcome_text(answer))
        if answer.status != 200:
            raise BadPayload(f"HTTP {answer.status}")

    def reschedule(self, external_id: str, order: BookingOrder) -> ExternalAppointment:
        """FHIR has no move: book the new slot first, then cancel the old visit, so that a
        failure part-way leaves the patient with a visit (at worst two, never none)."""
        booked = self.book(order)
        self.cancel(external_id)
        return booked

    def health(self) -> Health:
        answer = self._call("GET", "metadata")
        if answer.status != 200:
            raise BadPayload(f"HTTP {answer.status}")
        data = answer.json()
        if not isinstance(data, dict) or data.get("resourceType") != "CapabilityStatement":
            raise BadPayload("not a CapabilityStatement")
        return Health(ok=True, detail=str(data.get("fhirVersion") or ""))
