"""Times of a connector clinic's external system to answer one of its booking requests with
(the desk's request page): one day, of the preferred doctor or any, read through the
connector's cache and verified live when staff confirm one."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from scheduling.connectors import runtime
from scheduling.connectors.base import ExternalSlot
from scheduling.models import BookingRequest, ClinicConnector, Doctor, Service
from scheduling.selectors.booking_requests import starts_in_preferences
from scheduling.selectors.connector_slots import connector_free_slots, connector_of

SEPARATOR = "|"


@dataclass(frozen=True)
class UpstreamOption:
    slot: ExternalSlot
    doctor: Doctor
    local_start: datetime.datetime
    preferred: bool

    @property
    def value(self) -> str:
        """The form value naming this time: doctor, start and the system's slot id."""
        return SEPARATOR.join(
            (str(self.doctor.public_id), self.slot.start.isoformat(), self.slot.external_id)
        )


@dataclass(frozen=True)
class UpstreamTimes:
    options: list[UpstreamOption]
    unavailable: bool  # the system could not be asked: staff try later or propose


def bookable_connector(request: BookingRequest) -> ClinicConnector | None:
    """The connector the request's clinic books through, or None (not in connector mode, or
    its system cannot take bookings, as a busy-time feed cannot)."""
    row = connector_of(request.clinic)
    if row is None or not runtime.adapter_for(row).can_book:
        return None
    return row


def parse_upstream_value(text: str) -> tuple[uuid.UUID, datetime.datetime, str] | None:
    """(doctor public id, aware start, external slot id) of a form value; None if malformed."""
    parts = text.split(SEPARATOR)
    if len(parts) != 3 or not 0 < len(parts[2]) <= 64:
        return None
    try:
        doctor, start = uuid.UUID(parts[0]), datetime.datetime.fromisoformat(parts[1])
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    return doctor, start, parts[2]


def upstream_answer_times(
    *, request: BookingRequest, service: Service, day: datetime.date, only_doctor: bool
) -> UpstreamTimes:
    """Free times of `service` on the clinic's local `day` in its external system, of the
    request's doctor only when asked; each marked when it fits the patient's preferences."""
    clinic = request.clinic
    tz = clinic.tz
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
    found = connector_free_slots(
        clinic=clinic,
        service=service,
        doctor=request.doctor if only_doctor else None,
        start=start,
        end=start + datetime.timedelta(days=1),
    )
    doctors = {
        d.public_id: d
        for d in Doctor.objects.filter(
            public_id__in={s.doctor_public_id for s in found.slots}, clinics=clinic
        )
    }
    options = []
    for slot in found.slots:
        doctor = doctors.get(slot.doctor_public_id)
        if doctor is None:
            continue
        local = slot.start.astimezone(tz)
        options.append(
            UpstreamOption(
                slot=slot,
                doctor=doctor,
                local_start=local,
                preferred=starts_in_preferences(request, local),
            )
        )
    return UpstreamTimes(options=options, unavailable=found.unavailable)
