"""`appointment_book`: a new appointment in a free slot."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

from django.db import router
from django.utils import timezone

from portal.models import Clinic, Patient
from scheduling.choices import (
    QUOTA_CHANNELS,
    SELF_SERVICE_CHANNELS,
    UPCOMING_STATUSES,
    AppointmentEventKind,
    AppointmentStatus,
)
from scheduling.errors import HoldInvalid, InvalidInput, OtherClinic, PolicyViolation
from scheduling.models import Appointment, BookingPolicy, Doctor, Hold, Room, Service
from scheduling.selectors.availability import Slot, resolve_slot_for_booking
from scheduling.selectors.availability.free import checked_channels
from scheduling.selectors.payments import prepayment_due_at
from scheduling.selectors.policy import policy_for
from scheduling.selectors.pricing import price_quote
from scheduling.services.history import record_change
from scheduling.services.occupancy import conflicts_as_slot_taken
from scheduling.services.pricing import promotion_take
from scheduling.services.quotas import quota_take
from scheduling.services.refusals import records_overlap_refusals

from .guards import as_utc, check_may_act_for, local_day, user_or_none
from .placement import occupy


@records_overlap_refusals
@conflicts_as_slot_taken
def appointment_book(
    *,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    channel: str,
    actor: Any,
    hold: Hold | None = None,
    clinic: Clinic | None = None,
    bookable_clinic_ids: Collection[int] | None = None,
    quota_channel: str | None = None,
    notify: bool = True,
    promo_code: str = "",
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book `service` with `doctor` at `start` for `patient`.

    `start` must be a slot `free_slots` offers for this channel (in `clinic` when given);
    a `hold` of the actor for the same slot is consumed. `bookable_clinic_ids`: the clinics
    a staff member may book into (None: any). `quota_channel` overrides the channel's default
    quota (e.g. "referral"). Refuses with `NotAllowed` (a patient acting for someone they may
    not), `OtherClinic`, `SlotUnavailable`/`OutsideBookingWindow` (not a slot),
    `QuotaExceeded`, `PolicyViolation` (too many active bookings), `HoldInvalid`, `SlotTaken`.

    `notify=False` leaves the patient's "booked" messages to the caller (a confirmed booking
    request tells the patient in its own words).

    The price is the clinic's price on the booking day less the promotion that applies
    (`price_quote`): the promotion of `promo_code` (`PromotionInvalid` if it does not fit) or
    the best automatic one. One more query than a booking without prices; a promotion with a
    usage limit costs one more (its use is counted under the limit).

    A service the clinic takes only prepaid, booked online, waits for its payment until
    `payment_due_at` (PAYMENT_HOLD_MINUTES) keeping its time; its messages go out once paid.
    """
    now = now or timezone.now()
    if quota_channel is not None and quota_channel not in QUOTA_CHANNELS:
        raise InvalidInput(code="invalid_quota_channel")
    quota_channel = checked_channels(channel, quota_channel)
    check_may_act_for(actor, patient)
    if hold is not None:
        hold = _use_hold(
            hold=hold,
            patient=patient,
            doctor=doctor,
            service=service,
            start=start,
            actor=actor,
            now=now,
        )
    resolution = resolve_slot_for_booking(
        service=service,
        doctor=doctor,
        start=start,
        clinic=hold.clinic if hold is not None else clinic,
        channel=channel,
        quota_channel=quota_channel,
        now=now,
        ignore_hold_id=hold.pk if hold is not None else None,
    )
    slot, slot_clinic = resolution.slot, resolution.clinic
    if bookable_clinic_ids is not None and slot.clinic_id not in bookable_clinic_ids:
        raise OtherClinic()
    if channel in SELF_SERVICE_CHANNELS:
        _check_active_limit(patient, policy_for(slot_clinic), now=now)
    quota_take(
        clinic=slot_clinic,
        doctor_id=doctor.pk,
        service_id=service.pk,
        channel=quota_channel,
        day=local_day(slot.start_utc, slot_clinic),
        start=slot.start_utc,
        now=now,
        quotas=resolution.quotas,
    )
    quote = price_quote(
        clinic=slot_clinic,
        service=service,
        patient=patient,
        day=local_day(now, slot_clinic),
        code=promo_code,
    )
    if quote.limited and quote.promotion_id is not None:
        promotion_take(promotion_id=quote.promotion_id)
    if hold is not None:
        hold.delete()
    payment_due_at = prepayment_due_at(
        clinic=slot_clinic, service=service, channel=channel, now=now, price=quote.price
    )
    appointment = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        clinic=slot_clinic,
        service=service,
        room=_room_of(slot),
        starts_at=slot.start_utc,
        ends_at=slot.end_utc,
        buffer_minutes=slot.buffer_minutes,
        status=AppointmentStatus.BOOKED,
        channel=channel,
        quota_channel=quota_channel or "",
        price=quote.price,
        discount=quote.discount,
        promotion_id=quote.promotion_id,
        booked_by=user_or_none(actor),
        updated_by=user_or_none(actor),
        created_at=now,
        updated_at=now,
        payment_due_at=payment_due_at,
    )
    if slot.equipment_ids:
        Appointment.equipment.through.objects.bulk_create(
            Appointment.equipment.through(appointment=appointment, equipment_id=item)
            for item in slot.equipment_ids
        )
    occupy(
        appointment,
        equipment_ids=slot.equipment_ids,
        now=now,
        expired_hold_ids=resolution.expired_hold_ids,
    )
    record_change(
        appointment=appointment,
        kind=AppointmentEventKind.BOOKED,
        from_status="",
        actor=actor,
        now=now,
        changed_fields=["status", "starts_at", "doctor", "service", "clinic"],
        notify=notify and payment_due_at is None,
    )
    return appointment


def _use_hold(
    *,
    hold: Hold,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    actor: Any,
    now: datetime.datetime,
) -> Hold:
    """The actor's unexpired hold of exactly this slot, locked; else `HoldInvalid`."""
    try:
        locked = Hold.objects.select_for_update().select_related("clinic").get(pk=hold.pk)
    except Hold.DoesNotExist as exc:
        raise HoldInvalid(code="hold_gone") from exc
    if (
        locked.expires_at <= now
        or locked.doctor_id != doctor.pk
        or locked.service_id != service.pk
        or locked.starts_at != as_utc(start)
        or (locked.patient_id is not None and locked.patient_id != patient.pk)
        or (locked.created_by_id is not None and locked.created_by_id != getattr(actor, "pk", None))
    ):
        raise HoldInvalid()
    return locked


def _check_active_limit(patient: Patient, policy: BookingPolicy, *, now: datetime.datetime) -> None:
    """At most `max_active_per_patient` upcoming visits booked online; the patient's row is
    locked so that two bookings of one patient cannot both pass the count."""
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))
    active = Appointment.objects.filter(
        patient=patient, status__in=UPCOMING_STATUSES, starts_at__gt=now
    ).count()
    if active >= policy.max_active_per_patient:
        raise PolicyViolation(code="too_many_active", limit=policy.max_active_per_patient)


def _room_of(slot: Slot) -> Room | None:
    """The slot's room as a model instance holding only its id and public id, which the
    booking's answer shows (`Model.from_db`: the other fields are deferred and load on first
    access), so the answer costs no query for the room. The engine reads the public id of
    every room it may place a visit in, so a slot with a room always carries it."""
    if slot.room_id is None:
        return None
    return Room.from_db(
        router.db_for_read(Room), ["id", "public_id"], [slot.room_id, slot.room_public_id]
    )
