"""Short holds: a slot kept for a few minutes while a patient confirms.

A hold writes occupancy rows like an appointment (so nobody else can take the slot) with an
expiry; expired holds stop counting at once in `free_slots` and are deleted by the next
booking that needs their time, or by the periodic purge.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

from django.utils import timezone

from portal.models import Clinic, Patient, User
from scheduling.errors import HoldInvalid, OtherClinic
from scheduling.models import Doctor, Hold, Service
from scheduling.selectors.availability import resolve_slot_for_booking
from scheduling.selectors.availability.busy import visit_spans
from scheduling.selectors.policy import policy_for
from scheduling.services.booking import check_may_act_for
from scheduling.services.occupancy import conflicts_as_slot_taken, occupancy_take


@conflicts_as_slot_taken
def hold_create(
    *,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    channel: str,
    actor: Any,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    bookable_clinic_ids: Collection[int] | None = None,
    ttl: datetime.timedelta | None = None,
    now: datetime.datetime | None = None,
) -> Hold:
    """Hold the slot at `start` for the clinic's `hold_ttl_minutes` (or `ttl`).

    The actor's earlier holds are released first: one person holds one slot at a time.
    Refuses like `appointment_book` when `start` is not a free slot, or is in a clinic not
    among `bookable_clinic_ids` (None: any). `now`: the moment of holding (the current time
    when not given).
    """
    now = now or timezone.now()
    if patient is not None:
        check_may_act_for(actor, patient)
    if getattr(actor, "is_authenticated", False):
        Hold.objects.filter(created_by=actor).delete()
    resolution = resolve_slot_for_booking(
        service=service, doctor=doctor, start=start, clinic=clinic, channel=channel, now=now
    )
    slot, slot_clinic = resolution.slot, resolution.clinic
    if bookable_clinic_ids is not None and slot.clinic_id not in bookable_clinic_ids:
        raise OtherClinic()
    hold = Hold.objects.create(
        clinic=slot_clinic,
        doctor=doctor,
        service=service,
        patient=patient,
        room_id=slot.room_id,
        equipment_ids=list(slot.equipment_ids),
        starts_at=slot.start_utc,
        ends_at=slot.end_utc,
        channel=channel,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
        expires_at=now
        + (ttl or datetime.timedelta(minutes=policy_for(slot_clinic).hold_ttl_minutes)),
    )
    occupancy_take(
        spans=visit_spans(
            doctor_id=doctor.pk,
            room_id=slot.room_id,
            equipment_ids=slot.equipment_ids,
            start=slot.start_utc,
            end=slot.end_utc,
            buffer_minutes=slot.buffer_minutes,
        ),
        clinic_id=slot_clinic.pk,
        now=now,
        hold=hold,
        expired_hold_ids=resolution.expired_hold_ids,
    )
    return hold


def hold_release(*, hold: Hold, actor: Any) -> None:
    """Give a held slot back before it expires (only its creator may)."""
    if hold.created_by_id is not None and hold.created_by_id != getattr(actor, "pk", None):
        raise HoldInvalid(code="not_your_hold")
    Hold.objects.filter(pk=hold.pk).delete()


def holds_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete every expired hold (periodic task); returns how many."""
    now = now or timezone.now()
    _total, per_model = Hold.objects.filter(expires_at__lte=now).delete()
    return per_model.get(Hold._meta.label, 0)


def hold_claim(*, hold: Hold, actor: User) -> Hold:
    """A hold made before signing in becomes the signed-in actor's, so that only they can
    book it from now on. The caller has checked that this browser made it."""
    if hold.created_by_id is not None and hold.created_by_id != actor.pk:
        raise HoldInvalid(code="not_your_hold")
    if hold.created_by_id is None:
        Hold.objects.filter(pk=hold.pk, created_by__isnull=True).update(created_by=actor)
        hold.created_by = actor
    return hold
