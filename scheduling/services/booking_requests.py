"""Booking requests (request-mode clinics): leave, confirm, propose, accept, decline and
cancel. Their answer times, escalation and expiry are in `booking_request_sla`; the audit
events and the patient's messages in `booking_request_trail`.

Invariants every function here keeps:

- One transaction per call; a domain error changes nothing. A confirmation whose slot was
  taken meanwhile leaves the request as it was (open or proposed), never lost.
- Visits are booked only through `appointment_book` (channel "request"), so a request can only
  ever become a slot the engine offers.
- Every change of status is timestamped on the request, audited, and told to the patient
  through the outbox in the same transaction (a cancellation by the patient is not).
- Proposed times are listed, not held: the engine checks them again on acceptance.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic, Patient
from portal.types import Actor
from scheduling.choices import (
    ACTIVE_REQUEST_STATUSES,
    AppointmentChannel,
    BookingMode,
    BookingRequestSource,
    ContactChannel,
    DayPart,
    QuotaChannel,
)
from scheduling.choices import BookingRequestStatus as R
from scheduling.errors import InvalidInput, InvalidTransition, PolicyViolation
from scheduling.models import (
    Appointment,
    BookingRequest,
    Doctor,
    ProposedSlot,
    Service,
    Specialty,
)
from scheduling.selectors.availability import resolve_slot_for_booking
from scheduling.selectors.policy import policy_for
from scheduling.services.booking import appointment_book, check_may_act_for
from scheduling.services.booking.guards import require_staff_actor, user_or_none
from scheduling.services.booking_request_sla import desk_deadline
from scheduling.services.booking_request_trail import request_audit, request_tell

MAX_WINDOWS = 3
MAX_PROPOSALS = 3
MAX_COMMENT_LENGTH = 1000
MAX_DECLINE_REASON = 200
MAX_ACTIVE_REQUESTS = 5  # per patient, across clinics
# Requests are for the coming weeks; further out, the patient books once the schedule is open.
MAX_DAYS_AHEAD = 90


class Wanted(NamedTuple):
    """One time staff choose for a request: a doctor, a service and a start."""

    doctor: Doctor
    service: Service
    start: datetime.datetime


# --- Leaving a request ----------------------------------------------------------------------


def _clean_windows(
    windows: Sequence[dict[str, Any]], *, today: datetime.date
) -> list[dict[str, str]]:
    """The patient's preferred times, checked: 1 to 3, each from today on, in order, within
    `MAX_DAYS_AHEAD`, with a known part of the day."""
    if not windows:
        raise InvalidInput(_("Give at least one preferred day."), code="no_windows")
    if len(windows) > MAX_WINDOWS:
        raise InvalidInput(
            _("Give at most %(count)d preferred days or ranges.") % {"count": MAX_WINDOWS},
            code="too_many_windows",
        )
    cleaned = []
    last_allowed = today + datetime.timedelta(days=MAX_DAYS_AHEAD)
    for window in windows:
        first, last, part = (
            window.get("from"),
            window.get("to") or window.get("from"),
            window.get("part") or DayPart.ANY,
        )
        if not isinstance(first, datetime.date) or not isinstance(last, datetime.date):
            raise InvalidInput(_("Enter the preferred days as dates."), code="invalid_window")
        if part not in DayPart.values:
            raise InvalidInput(_("Choose a part of the day from the list."), code="invalid_part")
        if first < today or last < first:
            raise InvalidInput(
                _("Preferred days start today or later, and a range ends after it starts."),
                code="invalid_window",
            )
        if last > last_allowed:
            raise InvalidInput(
                _("Preferred days may be at most %(days)d days ahead.") % {"days": MAX_DAYS_AHEAD},
                code="window_too_far",
            )
        cleaned.append({"from": first.isoformat(), "to": last.isoformat(), "part": str(part)})
    return cleaned


def _check_what(
    *, clinic: Clinic, service: Service | None, specialty: Specialty | None, doctor: Doctor | None
) -> Specialty | None:
    """The specialty of the request (the service's when only a service is named); refuses a
    doctor who does not work in the clinic or does not do what is asked."""
    if service is None and specialty is None:
        raise InvalidInput(_("Choose a specialty or a service."), code="nothing_asked")
    if service is not None:
        if specialty is not None and service.specialty_id != specialty.pk:
            raise InvalidInput(_("This service belongs to another specialty."), code="mismatch")
        specialty = service.specialty
    if doctor is not None:
        works_here = doctor.clinics.filter(pk=clinic.pk).exists()
        does_it = (
            doctor.services.filter(pk=service.pk).exists()
            if service is not None
            else doctor.specialties.filter(pk=specialty.pk).exists()  # type: ignore[union-attr]
        )
        if not (doctor.is_active and works_here and does_it):
            raise InvalidInput(
                _("This doctor does not see patients for this in this clinic."),
                code="doctor_mismatch",
            )
    return specialty


@transaction.atomic
def booking_request_create(
    *,
    patient: Patient,
    clinic: Clinic,
    windows: Sequence[dict[str, Any]],
    actor: Actor,
    source: str = BookingRequestSource.PORTAL,
    service: Service | None = None,
    specialty: Specialty | None = None,
    doctor: Doctor | None = None,
    contact_channel: str = ContactChannel.PHONE,
    comment: str = "",
) -> BookingRequest:
    """Leave a request in a request-mode `clinic` for `patient`: a service or a specialty
    (a preferred doctor optional), one to three preferred days or ranges with a part of the
    day each (`{"from": date, "to": date, "part": DayPart}`), how to be contacted and a
    comment. Due within the clinic's SLA in working minutes; the patient is told it arrived.
    A second active request of the patient for the same thing in the clinic is refused."""
    check_may_act_for(actor, patient)
    if source not in BookingRequestSource.values:
        raise InvalidInput(code="invalid_source")
    if contact_channel not in ContactChannel.values:
        raise InvalidInput(_("Choose how the clinic should contact you."), code="invalid_contact")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            _("The comment may be at most %(count)d characters.") % {"count": MAX_COMMENT_LENGTH},
            code="comment_too_long",
        )
    policy = policy_for(clinic)
    if not clinic.is_active or policy.mode == BookingMode.NATIVE:
        raise PolicyViolation(
            _("This clinic books visits directly; choose a free time instead."),
            code="not_request_mode",
        )
    specialty = _check_what(clinic=clinic, service=service, specialty=specialty, doctor=doctor)
    now = timezone.now()
    cleaned = _clean_windows(windows, today=now.astimezone(clinic.tz).date())
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))
    active = BookingRequest.objects.filter(patient=patient, status__in=ACTIVE_REQUEST_STATUSES)
    if active.filter(clinic=clinic, service=service, specialty=specialty).exists():
        raise PolicyViolation(
            _("A request for this is already waiting at this clinic; it will answer soon."),
            code="request_pending",
        )
    if active.count() >= MAX_ACTIVE_REQUESTS:
        raise PolicyViolation(
            _("You have %(count)d requests waiting already; cancel one of them first.")
            % {"count": MAX_ACTIVE_REQUESTS},
            code="too_many_requests",
        )
    request = BookingRequest.objects.create(
        patient=patient,
        clinic=clinic,
        service=service,
        specialty=specialty,
        doctor=doctor,
        windows=cleaned,
        contact_channel=contact_channel,
        comment=comment,
        source=source,
        sla_due_at=desk_deadline(
            policy=policy, tz=clinic.tz, start=now, minutes=policy.request_sla_minutes
        ),
        created_by=user_or_none(actor),
        created_at=now,
    )
    request_audit(request, actor, AuditAction.CREATE, ["status", "windows", "comment"])
    request_tell(request, "received")
    return request


# --- Staff answer ---------------------------------------------------------------------------


def lock_request(request: BookingRequest, *statuses: str) -> BookingRequest:
    """The request re-read under a row lock; `InvalidTransition` unless in `statuses`."""
    locked = (
        BookingRequest.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient", "service", "specialty")
        .get(pk=request.pk)
    )
    if locked.status not in statuses:
        raise InvalidTransition(
            _("This request has been answered or closed already."), code="request_closed"
        )
    return locked


def check_request_service(request: BookingRequest, service: Service) -> None:
    if request.service_id is not None and service.pk != request.service_id:
        raise InvalidInput(_("Choose a time of the service asked for."), code="other_service")
    if service.specialty_id != request.specialty_id:
        raise InvalidInput(_("Choose a time of the specialty asked for."), code="other_specialty")


def _book(
    request: BookingRequest, wanted: Wanted, actor: Actor, bookable: set[int] | None
) -> BookingRequest:
    """Book `wanted` for the request through the engine and close it as confirmed."""
    check_request_service(request, wanted.service)
    quota = (
        QuotaChannel.PHONE if request.source == BookingRequestSource.DESK else QuotaChannel.ONLINE
    )
    appointment = appointment_book(
        patient=request.patient,
        doctor=wanted.doctor,
        service=wanted.service,
        start=wanted.start,
        channel=AppointmentChannel.REQUEST,
        clinic=request.clinic,
        actor=actor,
        bookable_clinic_ids=bookable,
        quota_channel=quota,
        notify=False,
    )
    return request_mark_confirmed(request, appointment, actor)


def request_mark_confirmed(
    request: BookingRequest, appointment: Appointment, actor: Actor
) -> BookingRequest:
    """Close a locked request (`lock_request`) as confirmed by `appointment`: timestamped, audited
    and told to the patient. Shared with confirmation through a connector."""
    now = timezone.now()
    request.status = R.CONFIRMED
    request.appointment = appointment
    request.confirmed_at = now
    request.time_to_confirm = now - request.created_at
    request.handled_by = user_or_none(actor)
    request.save(
        update_fields=["status", "appointment", "confirmed_at", "time_to_confirm", "handled_by"]
    )
    request_audit(request, actor, AuditAction.UPDATE, ["status", "appointment"])
    request_tell(request, "confirmed", appointment=appointment)
    return request


@transaction.atomic
def booking_request_confirm(
    *,
    request: BookingRequest,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    actor: Actor,
    bookable_clinic_ids: set[int] | None = None,
) -> BookingRequest:
    """Staff book a real free slot for an open or proposed request and confirm it. A slot
    taken meanwhile raises `SlotTaken` and the request stays as it was."""
    require_staff_actor(actor)
    locked = lock_request(request, *ACTIVE_REQUEST_STATUSES)
    return _book(locked, Wanted(doctor, service, start), actor, bookable_clinic_ids)


@transaction.atomic
def booking_request_propose(
    *, request: BookingRequest, slots: Sequence[Wanted], actor: Actor
) -> BookingRequest:
    """Staff propose one to three free times (each a slot the engine offers now) instead of
    the preferred ones; they replace earlier proposals and the patient is told."""
    require_staff_actor(actor)
    locked = lock_request(request, *ACTIVE_REQUEST_STATUSES)
    distinct = {(w.doctor.pk, w.service.pk, w.start) for w in slots}
    if not slots or len(slots) > MAX_PROPOSALS or len(distinct) != len(slots):
        raise InvalidInput(
            _("Propose one to %(count)d different times.") % {"count": MAX_PROPOSALS},
            code="invalid_proposals",
        )
    for wanted in slots:
        check_request_service(locked, wanted.service)
        resolve_slot_for_booking(
            service=wanted.service,
            doctor=wanted.doctor,
            start=wanted.start,
            clinic=locked.clinic,
            channel=AppointmentChannel.REQUEST,
        )
    locked.proposals.all().delete()
    ProposedSlot.objects.bulk_create(
        ProposedSlot(request=locked, doctor=w.doctor, service=w.service, starts_at=w.start)
        for w in sorted(slots, key=lambda w: w.start)
    )
    locked.status = R.PROPOSED
    locked.proposed_at = timezone.now()
    locked.handled_by = user_or_none(actor)
    locked.save(update_fields=["status", "proposed_at", "handled_by"])
    request_audit(locked, actor, AuditAction.UPDATE, ["status", "proposals"])
    request_tell(locked, "proposed")
    return locked


@transaction.atomic
def booking_request_accept(
    *, request: BookingRequest, proposal: ProposedSlot, actor: Actor
) -> BookingRequest:
    """The patient (or staff for them) takes one proposed time: booked through the engine,
    the request confirmed. Taken meanwhile: `SlotTaken`, and the request stays proposed."""
    check_may_act_for(actor, request.patient)
    locked = lock_request(request, R.PROPOSED)
    if proposal.request_id != locked.pk:
        raise InvalidInput(_("This time was not proposed for this request."), code="not_proposed")
    wanted = Wanted(proposal.doctor, proposal.service, proposal.starts_at)
    return _book(locked, wanted, actor, None)


@transaction.atomic
def booking_request_decline(
    *, request: BookingRequest, reason: str, actor: Actor
) -> BookingRequest:
    """Staff decline the request, saying why (the patient reads it)."""
    require_staff_actor(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_DECLINE_REASON:
        raise InvalidInput(
            _("Say why in at most %(count)d characters.") % {"count": MAX_DECLINE_REASON},
            code="decline_reason",
        )
    locked = lock_request(request, *ACTIVE_REQUEST_STATUSES)
    locked.status = R.DECLINED
    locked.decline_reason = reason
    locked.declined_at = timezone.now()
    locked.handled_by = user_or_none(actor)
    locked.save(update_fields=["status", "decline_reason", "declined_at", "handled_by"])
    request_audit(locked, actor, AuditAction.UPDATE, ["status", "decline_reason"])
    request_tell(locked, "declined", reason=reason)
    return locked


@transaction.atomic
def booking_request_cancel(*, request: BookingRequest, actor: Actor) -> BookingRequest:
    """The patient withdraws a request still open or proposed."""
    check_may_act_for(actor, request.patient)
    locked = lock_request(request, *ACTIVE_REQUEST_STATUSES)
    locked.status = R.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["status", "cancelled_at"])
    request_audit(locked, actor, AuditAction.UPDATE, ["status"])
    return locked
