"""What the assistant can do: every tool calls an existing service or selector with the
caller's own permissions, so the dialogue can never do more than the caller could by hand.

Anonymous visitors search the catalogue and free times, leave a callback request (a lead).
Where a clinic books on request, a patient leaves a booking request instead.
Booking, moving and cancelling need a patient acting for themselves or a dependant: a signed-in
patient, or the patient a Telegram chat or SMS number is linked to (when that patient has a
login to act as). A slot can be held or booked only if a tool returned it in this conversation
and the assistant offered it (`require_offered`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import LeadSource, TurnAuthor
from crm.models import Conversation, Lead, Turn
from crm.services.leads import lead_create
from portal import permissions
from portal.models import Clinic, Patient
from scheduling.choices import (
    UPCOMING_STATUSES,
    AppointmentChannel,
    BookingMode,
    BookingRequestSource,
    ContactChannel,
)
from scheduling.errors import BookingError
from scheduling.models import Appointment, BookingRequest, Doctor, Hold, Service, Specialty
from scheduling.permissions import bookable_clinic_ids
from scheduling.selectors.appointments import appointments_visible_to
from scheduling.selectors.availability import Slot, free_slots
from scheduling.selectors.catalogue import public_doctors
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from scheduling.services.booking_requests import booking_request_create
from scheduling.services.holds import hold_create, hold_release
from scheduling.slot_ids import parse_slot_id

MAX_OFFERS = 5
SEARCH_DAYS = 14


class SlotNotOffered(BookingError):
    """A booking of a slot the assistant did not offer in this conversation."""

    code = "slot_not_offered"
    default_message = _("That time was not offered in this conversation.")
    http_status = 422


@dataclass(frozen=True)
class Caller:
    """Who is talking: the signed-in user (None for an anonymous visitor or an unlinked
    sender) and the patient they are, when known."""

    user: Any
    patient: Patient | None

    @property
    def may_book(self) -> bool:
        return self.user is not None and permissions.acts_as_patient(self.user)


def require_offered(conversation: Conversation, slot_id: str) -> None:
    """Refuse a slot that no assistant turn of `conversation` offered."""
    offered = Turn.objects.filter(
        conversation=conversation, author=TurnAuthor.ASSISTANT
    ).values_list("offered_slot_ids", flat=True)
    if not any(slot_id in ids for ids in offered):
        raise SlotNotOffered


# --- The catalogue -----------------------------------------------------------------------------


def services_for(*, service_ids=(), specialty_ids=()) -> list[Service]:
    """Active services named, else the services of the named specialties (consultations
    first: the catalogue's own order)."""
    qs = Service.objects.filter(is_active=True).select_related("specialty")
    if service_ids:
        return list(qs.filter(pk__in=service_ids).order_by("sort_order", "name"))
    if specialty_ids:
        return list(qs.filter(specialty_id__in=specialty_ids).order_by("sort_order", "name"))
    return []


def doctors_for(*, specialty_ids=(), doctor_ids=()) -> list[Doctor]:
    qs = public_doctors()
    if doctor_ids:
        return list(qs.filter(pk__in=doctor_ids)[:10])
    if specialty_ids:
        return list(qs.filter(specialties__in=specialty_ids)[:10])
    return []


def specialties_named(ids) -> list[Specialty]:
    return list(Specialty.objects.filter(pk__in=ids))


def clinics_for(*, clinic_ids=(), city: str | None = None) -> QuerySet[Clinic]:
    qs = Clinic.objects.filter(is_active=True).order_by("city", "name")
    if clinic_ids:
        return qs.filter(pk__in=clinic_ids)
    if city:
        return qs.filter(city__iexact=city)
    return qs


# --- Free times --------------------------------------------------------------------------------


def slots_find(
    *,
    service: Service,
    doctor: Doctor | None = None,
    clinic: Clinic | None = None,
    date_from: datetime.date,
    date_to: datetime.date | None = None,
    time_from: datetime.time | None = None,
    time_to: datetime.time | None = None,
    limit: int = MAX_OFFERS,
) -> list[Slot]:
    """Free online slots of `service`, within the wanted hours, spread over the range: the
    engine's own computation (`free_slots`), the only source of times the assistant offers."""
    date_to = date_to or date_from + datetime.timedelta(days=SEARCH_DAYS - 1)
    slots = free_slots(
        service=service,
        doctor=doctor,
        clinic=clinic,
        channel=AppointmentChannel.ONLINE,
        start_date=date_from,
        end_date=date_to,
    )
    wanted = [
        slot
        for slot in slots
        if (time_from is None or slot.start.time() >= time_from)
        and (time_to is None or slot.start.time() < time_to)
    ]
    wanted.sort(key=lambda slot: slot.start_utc)
    if len(wanted) <= limit:
        return wanted
    # Spread the offers over the range rather than five back-to-back times of one doctor.
    step = len(wanted) / limit
    return [wanted[int(i * step)] for i in range(limit)]


@dataclass(frozen=True)
class SlotTarget:
    doctor: Doctor
    service: Service
    clinic: Clinic
    start: datetime.datetime


def slot_target(slot_id: str) -> SlotTarget:
    ref = parse_slot_id(slot_id)
    return SlotTarget(
        doctor=Doctor.objects.get(public_id=ref.doctor_public_id),
        service=Service.objects.get(public_id=ref.service_public_id),
        clinic=Clinic.objects.get(public_id=ref.clinic_public_id),
        start=ref.start,
    )


# --- Visits ------------------------------------------------------------------------------------


def visits_upcoming(caller: Caller) -> list[Appointment]:
    if not caller.may_book:
        return []
    return list(
        appointments_visible_to(caller.user)
        .filter(starts_at__gte=timezone.now(), status__in=UPCOMING_STATUSES)
        .select_related("doctor", "clinic", "service", "patient")
        .order_by("starts_at")[:10]
    )


def patient_for(caller: Caller, relation: str | None) -> Patient | None:
    """The caller's own profile, or their dependant of that relation (the first valid link)."""
    if caller.patient is None:
        return None
    if relation in (None, "self"):
        return caller.patient
    dependants = permissions.patients_managed_by(caller.user).exclude(pk=caller.patient.pk)
    return dependants.filter(
        guardian_links__guardian=caller.patient, guardian_links__relation=relation
    ).first()


def slot_hold(
    *, conversation: Conversation, caller: Caller, slot_id: str, patient: Patient
) -> Hold:
    require_offered(conversation, slot_id)
    target = slot_target(slot_id)
    return hold_create(
        doctor=target.doctor,
        service=target.service,
        start=target.start,
        clinic=target.clinic,
        channel=AppointmentChannel.ONLINE,
        actor=caller.user,
        patient=patient,
        bookable_clinic_ids=bookable_clinic_ids(caller.user),
    )


def hold_drop(*, caller: Caller, hold_id: str | None) -> None:
    hold = (
        Hold.objects.filter(public_id=hold_id, created_by=caller.user).first() if hold_id else None
    )
    if hold is not None:
        hold_release(hold=hold, actor=caller.user)


def visit_book(
    *,
    conversation: Conversation,
    caller: Caller,
    slot_id: str,
    patient: Patient,
    hold_id: str | None,
) -> Appointment:
    require_offered(conversation, slot_id)
    target = slot_target(slot_id)
    hold = (
        Hold.objects.filter(public_id=hold_id, created_by=caller.user).first() if hold_id else None
    )
    return appointment_book(
        patient=patient,
        doctor=target.doctor,
        service=target.service,
        start=target.start,
        clinic=target.clinic,
        channel=AppointmentChannel.ONLINE,
        actor=caller.user,
        hold=hold,
        bookable_clinic_ids=bookable_clinic_ids(caller.user),
    )


def visit_of(caller: Caller, public_id: str | None) -> Appointment | None:
    """One of the caller's upcoming visits (own or a dependant's); None for anyone else's."""
    if not public_id or not caller.may_book:
        return None
    return next((a for a in visits_upcoming(caller) if str(a.public_id) == public_id), None)


def visit_move(
    *, conversation: Conversation, caller: Caller, appointment: Appointment, slot_id: str
) -> Appointment:
    require_offered(conversation, slot_id)
    target = slot_target(slot_id)
    return appointment_reschedule(
        appointment=appointment, start=target.start, doctor=target.doctor, actor=caller.user
    )


def visit_cancel(*, caller: Caller, appointment: Appointment) -> Appointment:
    return appointment_cancel(appointment=appointment, actor=caller.user, reason="assistant")


def request_clinic_for(*, service: Service, preferred_ids=()) -> Clinic | None:
    """An active clinic that books `service` on request (one of `preferred_ids` first), where
    a booking request can be left instead of a booking."""
    clinics = Clinic.objects.filter(
        is_active=True,
        booking_policy__mode=BookingMode.REQUEST,
        doctors__services=service,
        doctors__is_active=True,
    ).distinct()
    preferred = clinics.filter(pk__in=[pk for pk in preferred_ids if pk])
    return preferred.order_by("pk").first() or clinics.order_by("pk").first()


def booking_request_leave(
    *,
    caller: Caller,
    patient: Patient,
    service: Service,
    clinic: Clinic,
    date_from: datetime.date,
    date_to: datetime.date,
    part: str,
) -> BookingRequest:
    """A booking request for the clinic to confirm, through the request-mode service with the
    caller's own rights (a patient for themselves or a dependant; a linked chat or number for
    its patient)."""
    return booking_request_create(
        patient=patient,
        clinic=clinic,
        service=service,
        windows=[{"from": date_from, "to": date_to, "part": part}],
        actor=caller.user,
        source=BookingRequestSource.ASSISTANT,
        contact_channel=ContactChannel.PHONE,
        comment=str(_("Left in the assistant chat.")),
    )


def callback_request(*, caller: Caller, phone: str, clinic: Clinic | None, comment: str) -> Lead:
    """A lead the clinic calls back: anyone may leave one (the CRM deduplicates repeats)."""
    lead, _created = lead_create(
        source=LeadSource.ASSISTANT,
        actor=caller.user,
        clinic=clinic,
        phone=phone,
        comment=comment,
    )
    return lead
