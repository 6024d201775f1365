"""Reads of booking requests: the patient's own list, the desk's queue of a clinic, the
request-mode clinics, and the free times staff pick from to answer a request."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from portal import permissions
from portal.models import Clinic
from scheduling.choices import ACTIVE_REQUEST_STATUSES, AppointmentChannel, BookingMode, DayPart
from scheduling.models import BookingRequest, Doctor, Service
from scheduling.selectors.availability import Slot, free_slots
from scheduling.selectors.catalogue import get_by_public_id

# Patients see their requests of the last weeks; older closed ones are history.
SHOWN_CLOSED_DAYS = 30
# Where each part of the day begins and ends, in hours of the clinic's local time.
DAY_PARTS = {
    DayPart.ANY: (0, 24),
    DayPart.MORNING: (0, 12),
    DayPart.AFTERNOON: (12, 17),
    DayPart.EVENING: (17, 24),
}


def request_mode_clinic_ids() -> set[int]:
    return set(
        Clinic.objects.filter(is_active=True, booking_policy__mode=BookingMode.REQUEST).values_list(
            "pk", flat=True
        )
    )


# --- The patient's ------------------------------------------------------------------------


def patient_requests(user: Any) -> QuerySet[BookingRequest]:
    """Requests of the patients `user` manages: the active ones and those closed lately,
    newest first, with their proposed times."""
    since = timezone.now() - datetime.timedelta(days=SHOWN_CLOSED_DAYS)
    return (
        BookingRequest.objects.filter(patient__in=permissions.patients_managed_by(user))
        .filter(created_at__gte=since)
        .select_related("patient", "clinic", "service", "specialty", "doctor", "appointment")
        .prefetch_related("proposals__doctor")
        .order_by("-created_at", "-pk")
    )


def get_request_for_patient(user: Any, public_id: Any) -> BookingRequest:
    """A request of one of `user`'s patients; 404 for anyone else's."""
    return get_by_public_id(
        BookingRequest.objects.filter(patient__in=permissions.patients_managed_by(user)),
        public_id,
    )


# --- The desk's ------------------------------------------------------------------------------


def desk_request_clinics(user: Any) -> list[Clinic]:
    """Request- and connector-mode clinics where `user` may book, by name (a connector
    clinic's requests are bookings its system could not take)."""
    qs = permissions.clinics_with(user, "appointment.book").filter(
        booking_policy__mode__in=(BookingMode.REQUEST, BookingMode.CONNECTOR)
    )
    return list(qs.order_by("name"))


def desk_requests(user: Any) -> QuerySet[BookingRequest]:
    """Requests in the clinics where `user` may book."""
    qs = BookingRequest.objects.select_related(
        "patient", "clinic", "service", "specialty", "doctor", "appointment"
    )
    clinic_ids = permissions.clinic_ids_with(user, "appointment.book")
    return qs if clinic_ids is None else qs.filter(clinic_id__in=clinic_ids)


def get_desk_request(user: Any, public_id: Any) -> BookingRequest:
    """A request of one of `user`'s clinics; 404 otherwise."""
    return get_by_public_id(desk_requests(user), public_id)


@dataclass(frozen=True)
class QueueRow:
    request: BookingRequest
    minutes_left: int  # negative: overdue by that many minutes

    @property
    def overdue(self) -> bool:
        return self.request.status == "open" and self.minutes_left < 0

    @property
    def overdue_minutes(self) -> int:
        return -self.minutes_left


def request_queue(*, user: Any, clinic: Clinic, now: datetime.datetime) -> list[QueueRow]:
    """The clinic's requests still to act on, oldest first, with the minutes left to answer."""
    rows = desk_requests(user).filter(clinic=clinic, status__in=ACTIVE_REQUEST_STATUSES)
    return [
        QueueRow(request=r, minutes_left=int((r.sla_due_at - now).total_seconds() // 60))
        for r in rows.order_by("created_at", "pk")
    ]


def open_request_count(*, user: Any, clinic: Clinic) -> int:
    return desk_requests(user).filter(clinic=clinic, status="open").count()


# --- Free times for an answer ----------------------------------------------------------------


def services_for(request: BookingRequest) -> list[Service]:
    """The services staff may book for the request: the one asked, or those of its specialty."""
    if request.service is not None:
        return [request.service]
    return list(
        Service.objects.filter(is_active=True, specialty=request.specialty).order_by(
            "sort_order", "name", "pk"
        )
    )


def first_preferred_day(request: BookingRequest, today: datetime.date) -> datetime.date:
    """The first preferred day not yet past, else today."""
    days = [datetime.date.fromisoformat(w["to"]) for w in request.windows]
    firsts = [
        max(datetime.date.fromisoformat(w["from"]), today)
        for w, last in zip(request.windows, days, strict=True)
        if last >= today
    ]
    return min(firsts) if firsts else today


def in_preferences(request: BookingRequest, slot: Slot) -> bool:
    """Whether the slot falls in one of the patient's preferred days and parts of the day."""
    return starts_in_preferences(request, slot.start)


def starts_in_preferences(request: BookingRequest, local_start: datetime.datetime) -> bool:
    """Whether a time (in the clinic's zone) falls in the patient's preferred windows."""
    day, hour = local_start.date(), local_start.hour
    for window in request.windows:
        low, high = DAY_PARTS[DayPart(window["part"])]
        first, last = (datetime.date.fromisoformat(window[k]) for k in ("from", "to"))
        if first <= day <= last and low <= hour < high:
            return True
    return False


@dataclass(frozen=True)
class SlotOption:
    slot: Slot
    doctor: Doctor
    preferred: bool


def answer_slots(
    *, request: BookingRequest, service: Service, day: datetime.date, only_doctor: bool
) -> list[SlotOption]:
    """Free times of `service` in the request's clinic on `day` that staff may book for it
    (the booking-request channel), of the preferred doctor only when asked; each marked when
    it fits the patient's preferences."""
    slots = [
        s
        for s in free_slots(
            service=service,
            doctor=request.doctor if only_doctor and request.doctor else None,
            clinic=request.clinic,
            channel=AppointmentChannel.REQUEST,
            start_date=day,
            end_date=day,
        )
        if s.clinic_id == request.clinic_id
    ]
    doctors = Doctor.objects.in_bulk({s.doctor_id for s in slots})
    return [
        SlotOption(slot=s, doctor=doctors[s.doctor_id], preferred=in_preferences(request, s))
        for s in slots
    ]
