"""Visits of a clinic's external system recorded here: booked there (`appointment_mirror_external`)
and moved there (`appointment_mirror_external_move`)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from portal.models import Clinic, Patient
from scheduling.choices import AppointmentEventKind, AppointmentStatus
from scheduling.models import Appointment, ClinicConnector, Doctor, ExternalBooking, Service
from scheduling.selectors.pricing import price_quote
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken
from scheduling.services.pricing import promotion_take

from .guards import check_may_act_for, clean_reason, local_day, lock_appointment, user_or_none
from .placement import occupy, release


@conflicts_as_slot_taken
def appointment_mirror_external(
    *,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    clinic: Clinic,
    connector: ClinicConnector,
    external_id: str,
    start: datetime.datetime,
    end: datetime.datetime,
    channel: str,
    actor: Any,
    notify: bool = True,
) -> Appointment:
    """Record a visit the external system of `clinic` has booked (`external_id`) as our
    appointment, so that "my visits", reminders and the desk show it.

    The external system decided the slot: our schedule rules and quotas do not apply, but the
    doctor's time is still taken here (`SlotTaken` if our records already have them busy),
    and the change is audited and told to the patient like any booking (`notify=False`
    leaves the telling to the caller, as a confirmed booking request does).
    """
    now = timezone.now()
    check_may_act_for(actor, patient)
    quote = price_quote(
        clinic=clinic, service=service, patient=patient, day=local_day(now, clinic), code=""
    )
    if quote.limited and quote.promotion_id is not None:
        promotion_take(promotion_id=quote.promotion_id)
    appointment = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        clinic=clinic,
        service=service,
        starts_at=start,
        ends_at=end,
        buffer_minutes=0,
        status=AppointmentStatus.BOOKED,
        channel=channel,
        price=quote.price,
        discount=quote.discount,
        promotion_id=quote.promotion_id,
        booked_by=user_or_none(actor),
        updated_by=user_or_none(actor),
        created_at=now,
        updated_at=now,
    )
    occupy(appointment, equipment_ids=(), now=now)
    ExternalBooking.objects.create(
        appointment=appointment, connector=connector, external_id=external_id, created_at=now
    )
    record_change(
        appointment=appointment,
        kind=AppointmentEventKind.BOOKED,
        from_status="",
        actor=actor,
        now=now,
        changed_fields=["status", "starts_at", "doctor", "service", "clinic"],
        notify=notify,
    )
    return appointment


@conflicts_as_slot_taken
def appointment_mirror_external_move(
    *,
    appointment: Appointment,
    external_id: str,
    start: datetime.datetime,
    end: datetime.datetime,
    actor: Any,
    reason: str = "",
) -> Appointment:
    """Record here that the external system has moved `appointment` (now its visit
    `external_id` at `start`–`end`): the doctor's time moves with it (`SlotTaken` if our
    records have them busy then), and the change is audited and told to the patient."""
    now = timezone.now()
    reason = clean_reason(reason)
    appointment = lock_appointment(appointment)
    check_may_act_for(actor, appointment.patient)
    previous_start = appointment.starts_at
    from_status = appointment.status
    release(appointment)
    appointment.starts_at = start
    appointment.ends_at = end
    appointment.status = AppointmentStatus.BOOKED
    appointment.confirmed_at = None
    appointment.reschedule_count += 1
    appointment.updated_by = user_or_none(actor)
    appointment.updated_at = now
    appointment.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "status",
            "confirmed_at",
            "reschedule_count",
            "updated_by",
            "updated_at",
        ]
    )
    occupy(appointment, equipment_ids=(), now=now)
    ExternalBooking.objects.filter(appointment=appointment).update(external_id=external_id)
    record_change(
        appointment=appointment,
        kind=AppointmentEventKind.RESCHEDULED,
        from_status=from_status,
        actor=actor,
        now=now,
        reason=reason,
        changed_fields=["starts_at", "ends_at", "status"],
        context={"previous_start": previous_start.astimezone(appointment.clinic.tz).isoformat()},
    )
    return appointment
