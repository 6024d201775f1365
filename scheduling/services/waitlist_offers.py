"""Offering freed slots to the cancellation waitlist (seed 003): the first YES wins.

When a visit is cancelled, rolled back or released unpaid, the change's trail asks (once it
commits) for `waitlist_slot_freed`; when a schedule change opens a time some waiting patient
fits, `waitlist_schedule` asks for `waitlist_slot_opened` (a slot of origin "schedule change",
without a source visit). The best waiting patients who fit (`slot_candidates`, seed
003's score) get an offer each, in batches of WAITLIST_BATCH_SIZE; the slot is held for them
through the engine's holds for WAITLIST_OFFER_MINUTES. The first to accept books it; the others
of the batch are told it is taken. A batch whose time ran out (or that everybody declined) makes
way for the next; when nobody is left the hold is released and the slot stays free.

Invariants:

- Every write locks the slot's `FreedSlot` row first (`select_for_update`, the row only):
  of simultaneous acceptances one books and the others find the slot filled. The engine's
  occupancy constraint stays the last guard of the time itself.
- One transaction per call; an acceptance that cannot be booked changes nothing but the offer.
- Offers of a batch share one hold; a batch's offers expire with it.
- Messages go through the outbox in the same transaction: at once for a slot today (urgent),
  otherwise in the clinic's contact hours, where a batch waits for the window to open.
- Every offer, answer, fill and staff change leaves an audit row.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.choices import Channel
from notifications.services import (
    NoAddress,
    next_contact_time,
    outbox_enqueue,
    prefer_messenger,
)
from portal.choices import AuditAction
from portal.models import Clinic, Patient
from portal.services.audit import audit_record
from scheduling.choices import (
    AppointmentChannel,
    AppointmentStatus,
    FreedSlotOrigin,
    FreedSlotStatus,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from scheduling.errors import BookingError, InvalidInput, InvalidTransition
from scheduling.models import (
    Appointment,
    Doctor,
    FreedSlot,
    Hold,
    WaitlistEntry,
    WaitlistOffer,
)
from scheduling.models.catalogue import Service
from scheduling.models.waitlist import MAX_BOOST
from scheduling.selectors.policy import policy_for
from scheduling.selectors.waitlist_offers import Candidate, offer_message_key, slot_candidates
from scheduling.services.booking import appointment_book, appointment_cancel, check_may_act_for
from scheduling.services.booking.guards import local_day, require_staff_actor
from scheduling.services.holds import hold_create

OFFER_TYPE = "scheduling.waitlist_offer"
SLOT_TYPE = "scheduling.freed_slot"
ENTRY_TYPE = "scheduling.waitlist_entry"
OFFER_EVENT = "waitlist.offer"
TAKEN_EVENT = "waitlist.taken"
# By SMS (Telegram instead for a patient whose linked chat takes visit messages) and e-mail.
OFFER_CHANNELS = (Channel.SMS, Channel.EMAIL)
# Visits whose cancellation or rollback gives their time back.
FREEING_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.ROLLED_BACK)
# A winner's later visit of the service that the earlier one replaces.
SWAPPABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
SWAP_REASON = "waitlist swap"
ADVANCE_LIMIT = 100

OS = WaitlistOfferStatus
F = FreedSlotStatus


@transaction.atomic
def waitlist_slot_freed(
    *, appointment_id: int, now: datetime.datetime | None = None
) -> FreedSlot | None:
    """Start offering the time of a cancelled or rolled-back visit (the task after the change
    commits). Once per visit: a repeated call returns the slot it made. None for a visit that
    did not free anything ahead. `now` (here and below): the moment of the step, the current
    time when not given; the simulation (`manage.py simulate_waitlist`) runs its own clock."""
    now = now or timezone.now()
    appointment = Appointment.objects.select_related("clinic").filter(pk=appointment_id).first()
    if (
        appointment is None
        or appointment.status not in FREEING_STATUSES
        or appointment.starts_at <= now
    ):
        return None
    slot, created = FreedSlot.objects.get_or_create(
        source=appointment,
        defaults={
            "clinic": appointment.clinic,
            "doctor_id": appointment.doctor_id,
            "service_id": appointment.service_id,
            "starts_at": appointment.starts_at,
            "freed_at": now,
        },
    )
    if not created:
        return slot
    _start_offers(slot, now=now)
    return slot


@transaction.atomic
def waitlist_slot_opened(
    *,
    clinic: Clinic,
    doctor: Doctor,
    service: Service,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> FreedSlot | None:
    """Start offering a time a schedule change opened (`waitlist_schedule`, once the change
    commits), as a cancelled visit's time is offered. None, and nothing recorded, when the
    doctor's time was offered before (by a cancellation or another change, whatever came of
    it) or no waiting patient fits it now; so a repeated call offers nothing twice. The
    doctor's row is locked first: calls for the same doctor take turns."""
    now = now or timezone.now()
    list(Doctor.objects.select_for_update().filter(pk=doctor.pk).values_list("pk", flat=True))
    if FreedSlot.objects.filter(doctor=doctor, starts_at=starts_at).exists():
        return None
    slot = FreedSlot(
        origin=FreedSlotOrigin.SCHEDULE,
        clinic=clinic,
        doctor=doctor,
        service=service,
        starts_at=starts_at,
        freed_at=now,
    )
    if not slot_candidates(slot=slot, now=now):
        return None
    slot.save(force_insert=True)
    _start_offers(slot, now=now)
    return slot


def _start_offers(slot: FreedSlot, *, now: datetime.datetime) -> None:
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type=SLOT_TYPE,
        object_id=str(slot.public_id),
        changed_fields=["status", "origin"],
        clinic=slot.clinic_id,
    )
    _next_batch(slot, now=now)


def waitlist_offers_advance(*, now: datetime.datetime | None = None) -> int:
    """Periodic: each slot whose batch ran out, or whose deferred batch is due, has its open
    offers expired and goes on to the next batch; returns how many slots moved. A slot another
    worker is moving is skipped."""
    now = now or timezone.now()
    due = list(
        FreedSlot.objects.filter(status=F.OFFERING, next_step_at__lte=now)
        .order_by("next_step_at")
        .values_list("pk", flat=True)[:ADVANCE_LIMIT]
    )
    return sum(1 for pk in due if _advance(pk, now=now))


@transaction.atomic
def _advance(pk: int, *, now: datetime.datetime) -> bool:
    slot = (
        _slots()
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk=pk, status=F.OFFERING, next_step_at__lte=now)
        .first()
    )
    if slot is None:
        return False
    for offer in slot.offers.filter(status=OS.OFFERED).select_related("patient"):
        offer.slot = slot
        _close_offer(offer, status=OS.EXPIRED, now=now, actor=None, answered=False)
    _next_batch(slot, now=now)
    return True


def waitlist_offer_reply(
    *, patient: Patient, accept: bool, channel: str, now: datetime.datetime | None = None
) -> WaitlistOffer | None:
    """A YES or NO the patient sent (SMS, messenger) to their open offer, the latest one.

    Returns the offer as it stands after the answer: `accepted` (booked), `declined`,
    `taken` (someone was faster; they have been told), `expired`, or `cancelled` (the
    acceptance could not be booked, `note` says why). None when they have no open offer.
    """
    offer = (
        WaitlistOffer.objects.filter(patient=patient, status=OS.OFFERED)
        .order_by("-sent_at", "-pk")
        .first()
    )
    if offer is None:
        return None
    return waitlist_offer_answer(offer=offer, accept=accept, actor=None, channel=channel, now=now)


@transaction.atomic
def waitlist_offer_answer(
    *,
    offer: WaitlistOffer,
    accept: bool,
    actor: Any,
    channel: str,
    now: datetime.datetime | None = None,
) -> WaitlistOffer:
    """Accept or decline one offer (the link's page, or `waitlist_offer_reply`).

    Accepting books the slot for the offer's patient through the engine (channel `waitlist`)
    with the batch's hold, after cancelling their later visit of the same service if they had
    one (a swap; its cancellation may start a new round). The first acceptance wins: the slot
    row is locked, so later ones find it filled and their offer `taken`. An answer to an offer
    no longer open changes nothing. When the last open offer of a batch is declined, the next
    batch goes out at once.
    """
    now = now or timezone.now()
    check_may_act_for(actor, offer.patient)
    slot = _slots().select_for_update(of=("self",)).get(pk=offer.slot_id)
    offer = WaitlistOffer.objects.select_related("patient", "entry").get(pk=offer.pk)
    offer.slot = slot
    if offer.status != OS.OFFERED:
        return offer
    offer.answer_channel = channel[:16]
    if offer.expires_at <= now:
        return _close_offer(offer, status=OS.EXPIRED, now=now, actor=actor, answered=False)
    if not accept:
        _close_offer(offer, status=OS.DECLINED, now=now, actor=actor)
        _next_batch_if_none_open(slot, now=now)
        return offer
    try:
        appointment = _book_with_swap(slot=slot, offer=offer, actor=actor, now=now)
    except BookingError as exc:
        offer.note = exc.code[:64]
        _close_offer(offer, status=OS.CANCELLED, now=now, actor=actor)
        _next_batch_if_none_open(slot, now=now)
        return offer
    _close_offer(offer, status=OS.ACCEPTED, now=now, actor=actor)
    _fill(slot, appointment=appointment, entry=offer.entry, now=now, actor=actor, manual=False)
    return offer


@transaction.atomic
def freed_slot_assign(*, slot: FreedSlot, entry: WaitlistEntry, actor: Any) -> Appointment:
    """Staff give a freed slot to a waiting patient of their choosing: booked at once through
    the engine (channel `waitlist`, the batch's hold if any), open offers told it is taken, the
    slot recorded as filled by hand. Refuses a slot no longer open and an entry that does not
    wait for this service; the engine's refusals pass through and nothing changes."""
    now = timezone.now()
    require_staff_actor(actor)
    slot = _slots().select_for_update(of=("self",)).get(pk=slot.pk)
    if slot.status not in (F.OFFERING, F.UNFILLED) or slot.starts_at <= now:
        raise InvalidTransition(code="slot_closed")
    entry = WaitlistEntry.objects.select_related("patient").get(pk=entry.pk)
    if entry.status != WaitlistStatus.ACTIVE or not _wants_service(entry, slot):
        raise InvalidInput(code="entry_does_not_fit")
    appointment = appointment_book(
        patient=entry.patient,
        doctor=slot.doctor,
        service=slot.service,
        start=slot.starts_at,
        channel=AppointmentChannel.WAITLIST,
        actor=actor,
        hold=slot.hold,
        clinic=slot.clinic,
    )
    _fill(slot, appointment=appointment, entry=entry, now=now, actor=actor, manual=True)
    return appointment


@transaction.atomic
def waitlist_entry_prioritise(
    *, entry: WaitlistEntry, urgent: bool, boost: int, actor: Any
) -> WaitlistEntry:
    """Staff set an entry's urgent flag and manual boost (0–40) that rank its offers."""
    require_staff_actor(actor)
    if not 0 <= boost <= MAX_BOOST:
        raise InvalidInput(code="invalid_boost", field="boost", max=MAX_BOOST)
    locked = WaitlistEntry.objects.select_for_update().select_related("patient").get(pk=entry.pk)
    if locked.status != WaitlistStatus.ACTIVE:
        raise InvalidTransition(code="waitlist_entry_closed")
    locked.urgent = urgent
    locked.boost = boost
    locked.save(update_fields=["urgent", "boost"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=ENTRY_TYPE,
        object_id=str(locked.public_id),
        patient_ids=[locked.patient.public_id],
        changed_fields=["urgent", "boost"],
        clinic=locked.clinic_id,
    )
    return locked


def _wants_service(entry: WaitlistEntry, slot: FreedSlot) -> bool:
    """The entry waits for the slot's service, or for any service of its specialty."""
    if entry.service_id is not None:
        return entry.service_id == slot.service_id
    return entry.specialty_id == slot.service.specialty_id


# --- Steps --------------------------------------------------------------------------------------


def _slots() -> Any:
    return FreedSlot.objects.select_related("clinic", "doctor", "service", "source")


def _next_batch(slot: FreedSlot, *, now: datetime.datetime) -> None:
    """Offer the locked `slot` to the next best patients, wait for the contact window, or close
    it when nobody is left or its time is no longer free."""
    candidates = slot_candidates(slot=slot, now=now)[: settings.WAITLIST_BATCH_SIZE]
    _drop_hold(slot)
    if not candidates:
        _close_slot(slot, status=F.UNFILLED, now=now)
        return
    clinic = slot.clinic
    policy = policy_for(clinic)
    today = local_day(slot.starts_at, clinic) == local_day(now, clinic)
    send_at = next_contact_time(
        now,
        zone=clinic.tz,
        opens=policy.contact_hours_start,
        closes=policy.contact_hours_end,
        urgent=today,
    )
    if send_at > now:
        slot.next_step_at = send_at
        slot.save(update_fields=["hold", "next_step_at"])
        return
    try:
        hold = hold_create(
            doctor=slot.doctor,
            service=slot.service,
            start=slot.starts_at,
            channel=AppointmentChannel.WAITLIST,
            actor=None,
            clinic=clinic,
            ttl=datetime.timedelta(minutes=settings.WAITLIST_OFFER_MINUTES),
            now=now,
        )
    except BookingError:
        _close_slot(slot, status=F.GONE, now=now)
        return
    slot.hold = hold
    slot.batch += 1
    slot.next_step_at = hold.expires_at
    slot.save(update_fields=["hold", "batch", "next_step_at"])
    for candidate in candidates:
        _offer(slot, candidate, now=now, expires_at=hold.expires_at)


def _offer(
    slot: FreedSlot, candidate: Candidate, *, now: datetime.datetime, expires_at: datetime.datetime
) -> WaitlistOffer:
    patient = candidate.entry.patient
    offer = WaitlistOffer(
        token=secrets.token_urlsafe(24),
        slot=slot,
        entry=candidate.entry,
        patient=patient,
        batch=slot.batch,
        score=candidate.score.total,
        sent_at=now,
        expires_at=expires_at,
    )
    offer.save(force_insert=True)
    swap = _later_visit(patient=patient, slot=slot)
    _tell(
        offer,
        event=OFFER_EVENT,
        extra={
            "minutes": settings.WAITLIST_OFFER_MINUTES,
            "link": settings.SITE_URL.rstrip("/")
            + reverse("scheduling:waitlist_offer", args=[offer.token]),
            "swap_start": swap.starts_at.astimezone(slot.clinic.tz).isoformat() if swap else "",
        },
    )
    _audit_offer(offer, action=AuditAction.CREATE, actor=None)
    return offer


def _tell(offer: WaitlistOffer, *, event: str, extra: dict[str, Any] | None = None) -> None:
    """The offer's patient by SMS or Telegram (`prefer_messenger`) and by e-mail, where they
    have the address; a YES or NO in the chat answers it as one by SMS does."""
    slot = offer.slot
    context = {
        "clinic": slot.clinic.name,
        "clinic_address": slot.clinic.address,
        "clinic_city": slot.clinic.city,
        "clinic_phone": slot.clinic.phone,
        "doctor": slot.doctor.full_name,
        "service": slot.service.name,
        "start": slot.starts_at.astimezone(slot.clinic.tz).isoformat(),
        **(extra or {}),
    }
    for channel in prefer_messenger(patient=offer.patient, channels=OFFER_CHANNELS):
        try:
            outbox_enqueue(
                event=event,
                channel=channel,
                patient=offer.patient,
                context=context,
                idempotency_key=offer_message_key(event, offer, channel),
                key_is_new=True,
                clinic=slot.clinic_id,
            )
        except NoAddress:
            continue


def _later_visit(*, patient: Patient, slot: FreedSlot) -> Appointment | None:
    """The patient's next visit of the slot's service after the slot: the one a YES swaps."""
    return (
        Appointment.objects.filter(
            patient=patient,
            service_id=slot.service_id,
            status__in=SWAPPABLE_STATUSES,
            starts_at__gt=slot.starts_at,
        )
        .order_by("starts_at")
        .first()
    )


def _book_with_swap(
    *, slot: FreedSlot, offer: WaitlistOffer, actor: Any, now: datetime.datetime
) -> Appointment:
    """Cancel the patient's later visit of the service, then book the slot; both or neither."""
    with transaction.atomic():
        later = _later_visit(patient=offer.patient, slot=slot)
        if later is not None:
            appointment_cancel(appointment=later, actor=actor, reason=SWAP_REASON, now=now)
        return appointment_book(
            patient=offer.patient,
            doctor=slot.doctor,
            service=slot.service,
            start=slot.starts_at,
            channel=AppointmentChannel.WAITLIST,
            actor=actor,
            hold=slot.hold,
            clinic=slot.clinic,
            now=now,
        )


def _fill(
    slot: FreedSlot,
    *,
    appointment: Appointment,
    entry: WaitlistEntry,
    now: datetime.datetime,
    actor: Any,
    manual: bool,
) -> None:
    """The slot is booked: close it, tell the open offers it is taken, close the entry. Whether
    the winner's rank had a staff boost is kept as it stands now (staff may change it later)."""
    slot.hold = None  # consumed by the booking
    slot.filled_by = appointment
    slot.manual = manual
    slot.won_with_boost = entry.boost > 0
    slot.save(update_fields=["hold", "filled_by", "manual", "won_with_boost"])
    _close_slot(slot, status=F.FILLED, now=now, actor=actor)
    for other in slot.offers.filter(status=OS.OFFERED).select_related("patient"):
        other.slot = slot
        _close_offer(other, status=OS.TAKEN, now=now, actor=actor, answered=False)
        _tell(other, event=TAKEN_EVENT)
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.BOOKED, closed_at=now)


def _next_batch_if_none_open(slot: FreedSlot, *, now: datetime.datetime) -> None:
    if not slot.offers.filter(status=OS.OFFERED, batch=slot.batch).exists():
        _next_batch(slot, now=now)


def _drop_hold(slot: FreedSlot) -> None:
    if slot.hold_id is not None:
        Hold.objects.filter(pk=slot.hold_id).delete()
        slot.hold = None


def _close_slot(slot: FreedSlot, *, status: str, now: datetime.datetime, actor: Any = None) -> None:
    slot.status = status
    slot.closed_at = now
    slot.next_step_at = None
    slot.save(update_fields=["status", "closed_at", "next_step_at", "hold"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=SLOT_TYPE,
        object_id=str(slot.public_id),
        changed_fields=["status"],
        clinic=slot.clinic_id,
    )


def _close_offer(
    offer: WaitlistOffer,
    *,
    status: str,
    now: datetime.datetime,
    actor: Any,
    answered: bool = True,
) -> WaitlistOffer:
    offer.status = status
    if answered:
        offer.answered_at = now
    offer.save(update_fields=["status", "answered_at", "answer_channel", "note"])
    _audit_offer(offer, action=AuditAction.UPDATE, actor=actor)
    return offer


def _audit_offer(offer: WaitlistOffer, *, action: str, actor: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=OFFER_TYPE,
        object_id=str(offer.public_id),
        patient_ids=[offer.patient.public_id],
        changed_fields=["status"],
        clinic=offer.slot.clinic_id,
    )
