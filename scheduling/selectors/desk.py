"""Read paths of the registrar desk besides the board itself (`day_board.py`): which clinics a
staff member works the desk of, one appointment with what may be done to it now, a patient's
visits for the staff card, and the free times to move a visit to.

Every read is scoped by the user's clinics (`portal.permissions`), never by an id alone.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from portal import permissions
from portal.models import Clinic, Patient
from scheduling.choices import (
    ALLOWED_TRANSITIONS,
    AppointmentEventKind,
    AppointmentStatus,
)
from scheduling.models import Appointment, AppointmentEvent, Doctor
from scheduling.selectors.availability import free_slots
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.day_board import BoardSlot
from scheduling.selectors.policy import policy_for
from scheduling.selectors.status_undo import status_undo_until

S = AppointmentStatus
K = AppointmentEventKind
MOVABLE = (S.BOOKED, S.CONFIRMED)
SHOWN_PAST_VISITS = 10


def desk_clinics(user: Any) -> list[Clinic]:
    """Active clinics whose board `user` may see, by name."""
    return list(permissions.clinics_with(user, "schedule.view").order_by("name"))


def pick_clinic(user: Any, public_id: str | None) -> tuple[Clinic | None, list[Clinic]]:
    """The clinic asked for (404 if it is not one of the user's), else the only one; None when
    the user must choose among several."""
    clinics = desk_clinics(user)
    if public_id:
        chosen = next((c for c in clinics if str(c.public_id) == public_id), None)
        if chosen is None:
            get_by_public_id(Clinic.objects.none(), public_id)  # 404, for any id
        return chosen, clinics
    return (clinics[0] if len(clinics) == 1 else None), clinics


def desk_appointments(user: Any) -> QuerySet[Appointment]:
    """Appointments in the clinics where `user` holds `appointment.view`."""
    qs = Appointment.objects.select_related(
        "patient", "doctor", "service", "clinic", "clinic__booking_policy", "room"
    )
    clinic_ids = permissions.clinic_ids_with(user, "appointment.view")
    return qs if clinic_ids is None else qs.filter(clinic_id__in=clinic_ids)


def get_desk_appointment(user: Any, public_id: Any) -> Appointment:
    """The appointment if it is in one of `user`'s clinics; 404 otherwise."""
    return get_by_public_id(desk_appointments(user), public_id)


@dataclass(frozen=True)
class DeskAction:
    name: str  # the URL's action slug
    capability: str
    needs_reason: bool = False


# What the desk can do to an appointment, and which capability each needs in its clinic.
ACTIONS: dict[str, DeskAction] = {
    action.name: action
    for action in (
        DeskAction("confirm", "appointment.manage"),
        DeskAction("check-in", "appointment.manage"),
        DeskAction("no-show", "appointment.manage"),
        DeskAction("complete", "appointment.complete"),
        DeskAction("cancel", "appointment.manage", needs_reason=True),
        DeskAction("rollback", "appointment.rollback", needs_reason=True),
    )
}
# The status each action leaves (a repeated click finds it there already).
ACTION_RESULTS = {
    "confirm": S.CONFIRMED,
    "check-in": S.CHECKED_IN,
    "no-show": S.NO_SHOW,
    "complete": S.COMPLETED,
    "cancel": S.CANCELLED,
}


@dataclass
class AppointmentPanel:
    appointment: Appointment
    start: datetime.datetime  # in the clinic's zone
    end: datetime.datetime
    events: list[AppointmentEvent]
    last_event_id: int | None
    actions: set[str]  # ACTIONS names the user may do now
    can_reschedule: bool
    rollback_until: datetime.datetime | None  # in the clinic's zone
    # Until when the latest check-in, no-show or completion may be undone (None: it may not).
    status_undo_until: datetime.datetime | None = None


def appointment_panel(
    *, user: Any, appointment: Appointment, now: datetime.datetime | None = None
) -> AppointmentPanel:
    """The appointment with its history and the actions `user` may take on it now (the
    services check again; this only decides which buttons to show)."""
    now = now or timezone.now()
    clinic = appointment.clinic
    tz = clinic.tz
    events = list(appointment.events.select_related("actor").order_by("occurred_at", "id"))
    last = events[-1] if events else None
    status = appointment.status
    future = appointment.starts_at > now
    possible = set()
    if status in MOVABLE and future:
        possible.add("cancel")
        if status == S.BOOKED:
            possible.add("confirm")
    if (
        status in MOVABLE
        and now.astimezone(tz).date() >= appointment.starts_at.astimezone(tz).date()
    ):
        possible.add("check-in")
    if status in MOVABLE and not future:
        possible.add("no-show")
    if S.COMPLETED in ALLOWED_TRANSITIONS[status]:
        possible.add("complete")
    rollback_until = None
    if last is not None and last.kind in (K.BOOKED, K.RESCHEDULED):
        window = datetime.timedelta(minutes=policy_for(clinic).rollback_window_minutes)
        if now - last.occurred_at <= window:
            possible.add("rollback")
            rollback_until = (last.occurred_at + window).astimezone(tz)
    allowed = {
        name
        for name in possible
        if permissions.has_capability(user, ACTIONS[name].capability, clinic)
    }
    return AppointmentPanel(
        appointment=appointment,
        start=appointment.starts_at.astimezone(tz),
        end=appointment.ends_at.astimezone(tz),
        events=events,
        last_event_id=last.pk if last else None,
        actions=allowed,
        can_reschedule=status in MOVABLE
        and future
        and permissions.has_capability(user, "appointment.manage", clinic),
        rollback_until=rollback_until,
        status_undo_until=status_undo_until(appointment=appointment, last=last, now=now)
        if permissions.has_capability(user, "appointment.rollback", clinic)
        else None,
    )


@dataclass(frozen=True)
class VisitLine:
    public_id: uuid.UUID
    start: datetime.datetime  # in the clinic's zone
    status: str
    status_label: str
    doctor: str
    service: str
    clinic: str
    clinic_public_id: uuid.UUID
    on_my_desk: bool  # in a clinic where the reader works the desk


def staff_patient_visits(
    *, user: Any, patient: Patient, now: datetime.datetime | None = None
) -> tuple[list[VisitLine], list[VisitLine]]:
    """The patient's upcoming and (latest) past visits in the clinics where `user` sees
    appointments: one query."""
    now = now or timezone.now()
    labels = dict(S.choices)
    my_clinics = permissions.clinic_ids_with(user, "schedule.view")
    lines = []
    for appointment in desk_appointments(user).filter(patient=patient).order_by("-starts_at")[:200]:
        clinic = appointment.clinic
        lines.append(
            VisitLine(
                public_id=appointment.public_id,
                start=appointment.starts_at.astimezone(clinic.tz),
                status=appointment.status,
                status_label=str(labels[appointment.status]),
                doctor=appointment.doctor.full_name,
                service=appointment.service.name,
                clinic=clinic.name,
                clinic_public_id=clinic.public_id,
                on_my_desk=my_clinics is None or clinic.pk in my_clinics,
            )
        )
    upcoming = [
        line
        for line in reversed(lines)
        if line.start > now and line.status in (S.BOOKED, S.CONFIRMED, S.CHECKED_IN)
    ]
    shown = {line.public_id for line in upcoming}
    past = [line for line in lines if line.public_id not in shown][:SHOWN_PAST_VISITS]
    return upcoming, past


@dataclass(frozen=True)
class DoctorSlots:
    name: str
    slots: list[BoardSlot]


def move_choices(*, appointment: Appointment, day: datetime.date) -> list[DoctorSlots]:
    """Free times of the appointment's service in its clinic on `day`, per doctor (its own
    doctor first), from `free_slots`, booked through the appointment's channel."""
    clinic = appointment.clinic
    # The channel and quota the move itself resolves with (`appointment_reschedule`).
    slots = free_slots(
        service=appointment.service,
        clinic=clinic,
        channel=appointment.channel,
        quota_channel=appointment.quota_channel or None,
        start_date=day,
        end_date=day,
    )
    by_doctor: dict[int, list[BoardSlot]] = {}
    for slot in slots:
        if slot.clinic_id == clinic.pk:
            by_doctor.setdefault(slot.doctor_id, []).append(
                BoardSlot(slot_id=slot.slot_id, start=slot.start.astimezone(clinic.tz))
            )
    full = {doctor.pk: doctor.full_name for doctor in Doctor.objects.filter(pk__in=list(by_doctor))}
    order = sorted(by_doctor, key=lambda pk: (pk != appointment.doctor_id, full.get(pk, "")))
    return [DoctorSlots(name=full.get(pk, ""), slots=by_doctor[pk]) for pk in order]
