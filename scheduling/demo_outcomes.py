"""What happened around the demo's year of visits, for the director's dashboard: the booking
requests of the request-mode clinic and how fast its desk answered them, and the slots freed
by cancellations with what the waiting list made of them.

Written in bulk after the visits (`demo_history`), from the rows it wrote, so every request
points at a real visit and every filled slot at the visit that filled it (with its occupancy,
events and audit rows, as the history writes them). The story: the desk answers within its
SLA far more often than a year ago, and the waiting list fills more freed slots within two
hours; a few fills still need staff.
"""

from __future__ import annotations

import bisect
import datetime
import secrets
from collections.abc import Iterable
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from portal.demo import DemoContext
from portal.models import AuditEvent
from portal.services.audit import audit_record_many
from scheduling.choices import (
    AppointmentChannel,
    AppointmentStatus,
    BookingRequestSource,
    BookingRequestStatus,
    ContactChannel,
    DayPart,
    FreedSlotStatus,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from scheduling.demo_history import booking_audit, fits, visit_occupancy
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    BookingPolicy,
    BookingRequest,
    FreedSlot,
    Occupancy,
    WaitlistEntry,
    WaitlistOffer,
)
from scheduling.services.booking_request_sla import desk_deadline

S = AppointmentStatus
R = BookingRequestStatus
DAY = datetime.timedelta(days=1)
YEAR = 365
WAITLIST_WINDOW = datetime.timedelta(hours=2)
# How long one batch of waiting-list offers stays open before the next batch is offered.
OFFER_MINUTES = 30
# A cancellation this close to the visit frees nothing worth offering.
MIN_NOTICE = datetime.timedelta(hours=3)


def _age(when: datetime.datetime, now: datetime.datetime) -> float:
    """1.0 a year ago (or earlier), 0.0 now: how far along the story a moment is."""
    return min(1.0, max(0.0, (now - when).total_seconds() / (YEAR * 86400)))


# --- Booking requests -------------------------------------------------------------------------


def seed_requests(ctx: DemoContext, clinic: Any) -> int:
    """The past year's booking requests of the request-mode `clinic`: about half of its desk's
    phone bookings came in as requests (their channel becomes "booking request"), answered
    a few working minutes after they arrived (the SLA is the clinic's policy; a year ago the
    desk kept it about half the time, now about nine times in ten), plus requests the desk
    declined or the patient withdrew. Returns how many requests were written."""
    if (
        clinic is None
        or BookingRequest.objects.filter(clinic=clinic, appointment__isnull=False).exists()
    ):
        return 0
    rng = ctx.rng
    now = timezone.now()
    policy = BookingPolicy.objects.get(clinic=clinic)
    sla = policy.request_sla_minutes
    registrar = ctx.users.get("registrar")
    tz = clinic.tz
    visits = list(
        Appointment.objects.filter(
            clinic=clinic,
            channel=AppointmentChannel.PHONE,
            created_at__gte=now - YEAR * DAY,
            created_at__lt=now,
        )
        .exclude(status=S.ROLLED_BACK)
        .select_related("service")
        .order_by("pk")
    )
    requests: list[BookingRequest] = []
    converted: list[int] = []
    for visit in visits:
        if rng.random() > 0.5:
            continue
        age = _age(visit.created_at, now)
        # Working minutes to answer: typically 8 now, 16 a year ago (the SLA is 15 by default).
        typical = sla * (0.55 + 0.5 * age)
        minutes = max(1, round(rng.lognormvariate(0, 0.5) * typical))
        confirmed = visit.created_at
        created = confirmed - datetime.timedelta(minutes=minutes)
        due = desk_deadline(policy=policy, tz=tz, start=created, minutes=sla)
        day = visit.starts_at.astimezone(tz).date()
        request = _request(rng, visit, created, due, registrar, day)
        request.status = R.CONFIRMED
        request.appointment = visit
        request.confirmed_at = confirmed
        request.time_to_confirm = confirmed - created
        requests.append(request)
        converted.append(visit.pk)
    # Requests that booked nothing: declined (no time in the wished days) or withdrawn.
    for visit in rng.sample(visits, k=min(len(visits), len(requests) // 8)):
        created = visit.created_at - datetime.timedelta(days=rng.randint(1, 6))
        minutes = max(1, round(rng.lognormvariate(0, 0.5) * sla * 0.7))
        due = desk_deadline(policy=policy, tz=tz, start=created, minutes=sla)
        day = visit.starts_at.astimezone(tz).date()
        request = _request(rng, visit, created, due, registrar, day)
        if rng.random() < 0.7:
            request.status = R.DECLINED
            request.declined_at = created + datetime.timedelta(minutes=minutes)
            request.decline_reason = rng.choice(
                ["Нет свободного времени в эти дни", "Врач в отпуске", "Услуга по направлению"]
            )
        else:
            request.status = R.CANCELLED
            request.cancelled_at = created + datetime.timedelta(minutes=minutes)
            request.handled_by = None
        requests.append(request)
    for request in requests:
        answered = request.confirmed_at or request.declined_at or request.cancelled_at
        if answered is not None and answered > request.sla_due_at:
            request.escalated = True
            request.escalated_at = request.sla_due_at
    Appointment.objects.filter(pk__in=converted).update(channel=AppointmentChannel.REQUEST)
    BookingRequest.objects.bulk_create(requests, batch_size=1000)
    return len(requests)


def _request(
    rng: Any,
    visit: Appointment,
    created: datetime.datetime,
    due: datetime.datetime,
    registrar: Any,
    day: datetime.date,
) -> BookingRequest:
    desk = rng.random() < 0.3
    return BookingRequest(
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
        service_id=visit.service_id,
        specialty_id=visit.service.specialty_id,
        windows=[
            {
                "from": (day - datetime.timedelta(days=rng.randint(0, 2))).isoformat(),
                "to": day.isoformat(),
                "part": rng.choice([DayPart.ANY, DayPart.MORNING, DayPart.EVENING]).value,
            }
        ],
        contact_channel=rng.choice([ContactChannel.PHONE, ContactChannel.SMS]),
        source=BookingRequestSource.DESK if desk else BookingRequestSource.PORTAL,
        created_by=registrar if desk else None,
        handled_by=registrar,
        created_at=created,
        sla_due_at=due,
    )


# --- Freed slots and the waiting list ---------------------------------------------------------


def seed_waitlist(ctx: DemoContext, specialty_of: dict[int, str]) -> int:
    """Past cancellations made at least 3 hours ahead freed their slots to the waiting list:
    most were booked within 2 hours (about 62 % a year ago, 80 % now), some later, some by
    nobody; staff assigned a few by hand or raised a patient's rank. A filled slot's new
    visit is written like the history's. `specialty_of`: each doctor's specialty (which
    patients a slot may go to). Returns how many slots were freed."""
    rng = ctx.rng
    now = timezone.now()
    registrar = ctx.users.get("registrar")
    patients = [p for p in ctx.patients if p != ctx.demo_patient] or list(ctx.patients)
    if not patients or FreedSlot.objects.exists():
        return 0
    # Each specialty's patients in the order they first came, with their first and last
    # visits: a freed slot goes to someone who was coming to the network then, so new patients
    # keep arriving through the year and lapsed ones stay away, as the history has them.
    seen = {
        patient_id: (first, last)
        for patient_id, first, last in Appointment.objects.values("patient_id")
        .annotate(first=Min("starts_at"), last=Max("starts_at"))
        .values_list("patient_id", "first", "last")
    }
    pools: dict[str, tuple[list[Any], list[datetime.datetime]]] = {}
    cancelled = (
        Appointment.objects.filter(
            status=S.CANCELLED,
            cancelled_at__isnull=False,
            starts_at__lt=now - WAITLIST_WINDOW,
            cancelled_at__gte=now - YEAR * DAY,
        )
        .select_related("clinic")
        .order_by("pk")
    )
    through = Appointment.equipment.through
    # Each cancelled visit with the moment it freed its time.
    freed_at = {
        a.pk: a.cancelled_at
        for a in cancelled
        if a.cancelled_at is not None and a.starts_at - a.cancelled_at >= MIN_NOTICE
    }
    visits = [a for a in cancelled if a.pk in freed_at]
    equipment: dict[int, list[int]] = {}
    for appointment_id, equipment_id in through.objects.filter(
        appointment_id__in=[a.pk for a in visits]
    ).values_list("appointment_id", "equipment_id"):
        equipment.setdefault(appointment_id, []).append(equipment_id)

    slots: list[FreedSlot] = []
    fillers: list[Appointment] = []
    filler_of: list[int | None] = []  # per slot: the index of its filling visit
    filled: list[Appointment] = []  # the freed visits, in the order of their fillers
    offers: list[tuple[int, WaitlistEntry, WaitlistOffer]] = []  # (slot index, entry, offer)
    for source in visits:
        if rng.random() > 0.7:
            continue  # nobody was waiting for this doctor or service
        specialty = specialty_of.get(source.doctor_id, "")
        if specialty not in pools:
            fitting = [p for p in patients if fits(p, specialty, ctx.today)] or patients
            known = sorted((p for p in fitting if p.pk in seen), key=lambda p: seen[p.pk])
            pools[specialty] = (known or fitting, [seen[p.pk][0] for p in known])
        pool, firsts = pools[specialty]
        freed = freed_at[source.pk]
        tz = source.clinic.tz
        latest = source.starts_at - datetime.timedelta(minutes=15)
        age = _age(freed, now)
        roll = rng.random()
        fast = 0.62 + 0.18 * (1 - age)
        if roll < fast:
            minutes = min(115, max(2, round(rng.lognormvariate(0, 0.7) * 30)))
        elif roll < fast + 0.07:
            minutes = rng.randint(125, 600)
        else:
            minutes = None
        closed: datetime.datetime | None = None
        if minutes is not None:
            closed = freed + datetime.timedelta(minutes=minutes)
        if closed is None or closed > latest:
            # Nobody took it before the visit's time.
            closed = min(freed + datetime.timedelta(minutes=OFFER_MINUTES * 4), latest)
            minutes = None
        manual = minutes is not None and rng.random() < 0.07
        boosted = minutes is not None and not manual and rng.random() < 0.05
        slot = FreedSlot(
            source=source,
            clinic_id=source.clinic_id,
            doctor_id=source.doctor_id,
            service_id=source.service_id,
            starts_at=source.starts_at,
            status=FreedSlotStatus.FILLED if minutes is not None else FreedSlotStatus.UNFILLED,
            batch=min(3, (minutes or OFFER_MINUTES * 4) // OFFER_MINUTES),
            freed_at=freed,
            closed_at=closed,
            manual=manual,
        )
        index = len(slots)
        slots.append(slot)
        came = pool[: bisect.bisect_left(firsts, freed)]
        taker = rng.choice([p for p in came if seen[p.pk][1] >= freed] or came or pool)
        filler_of.append(None)
        if minutes is not None:
            filler_of[index] = len(fillers)
            fillers.append(_filler(rng, source, taker, closed, manual, registrar))
            filled.append(source)
        # The offers: the waiting patients offered the slot, batch by batch.
        waiting = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
        if minutes is not None and not manual:
            waiting = [taker, *(p for p in waiting if p != taker)]
        for position, patient in enumerate(waiting):
            accepted = position == 0 and minutes is not None and not manual
            batch = slot.batch if accepted else 0
            sent = freed + datetime.timedelta(minutes=1 + OFFER_MINUTES * batch)
            joined = freed - DAY * rng.randint(1, 20)
            entry = WaitlistEntry(
                patient=patient,
                service_id=source.service_id,
                clinic_id=source.clinic_id,
                date_from=joined.astimezone(tz).date(),
                date_to=source.starts_at.astimezone(tz).date(),
                status=WaitlistStatus.BOOKED if accepted else WaitlistStatus.EXPIRED,
                created_at=joined,
                closed_at=closed if accepted else source.starts_at,
                boost=rng.choice([10, 20, 30]) if accepted and boosted else 0,
            )
            offer = WaitlistOffer(
                token=secrets.token_urlsafe(24),  # a credential: never derived from the seed
                patient=patient,
                batch=batch,
                score=rng.randint(40, 95),
                sent_at=sent,
                expires_at=sent + datetime.timedelta(minutes=OFFER_MINUTES),
            )
            if accepted:
                offer.status = WaitlistOfferStatus.ACCEPTED
                offer.answered_at = closed
                offer.answer_channel = "sms"
            elif minutes is not None and position and rng.random() < 0.5:
                offer.status = WaitlistOfferStatus.TAKEN
            elif rng.random() < 0.3:
                offer.status = WaitlistOfferStatus.DECLINED
                offer.answered_at = sent + datetime.timedelta(minutes=rng.randint(1, 25))
                offer.answer_channel = "sms"
            else:
                offer.status = WaitlistOfferStatus.EXPIRED
            offers.append((index, entry, offer))

    _write_visits(fillers, equipment, filled)
    for slot, filler in zip(slots, filler_of, strict=True):
        if filler is not None:
            slot.filled_by = fillers[filler]
    FreedSlot.objects.bulk_create(slots, batch_size=1000)
    WaitlistEntry.objects.bulk_create([entry for _i, entry, _o in offers], batch_size=1000)
    for index, entry, offer in offers:
        offer.slot = slots[index]
        offer.entry = entry
    WaitlistOffer.objects.bulk_create([offer for _i, _e, offer in offers], batch_size=1000)
    return len(slots)


def _filler(
    rng: Any,
    source: Appointment,
    patient: Any,
    booked: datetime.datetime,
    manual: bool,
    registrar: Any,
) -> Appointment:
    """The visit that filled `source`'s freed time: taken from an offer (the waiting list's
    channel) or given by the desk by hand; it happened or the patient did not come."""
    came = rng.random() < 0.92
    visit = Appointment(
        patient=patient,
        doctor_id=source.doctor_id,
        clinic_id=source.clinic_id,
        service_id=source.service_id,
        room_id=source.room_id,
        starts_at=source.starts_at,
        ends_at=source.ends_at,
        status=S.COMPLETED if came else S.NO_SHOW,
        channel=AppointmentChannel.PHONE if manual else AppointmentChannel.WAITLIST,
        price=source.price,
        booked_by=registrar if manual else None,
        created_at=booked,
        updated_at=source.ends_at,
    )
    if came:
        visit.checked_in_at = source.starts_at - datetime.timedelta(minutes=10)
        visit.completed_at = source.ends_at
    else:
        visit.no_show_at = source.ends_at
    return visit


def _write_visits(
    visits: list[Appointment], equipment: dict[int, list[int]], sources: Iterable[Appointment]
) -> None:
    """Write the filling visits as the history writes its own: the rows, their equipment and
    occupancy (the freed time is free: a cancelled visit holds none), events and audit."""
    Appointment.objects.bulk_create(visits, batch_size=2000)
    through = Appointment.equipment.through
    links: list[Any] = []
    occupancy: list[Occupancy] = []
    events: list[AppointmentEvent] = []
    audit: list[AuditEvent] = []
    for visit, source in zip(visits, sources, strict=True):
        eq_ids = equipment.get(source.pk, [])
        links.extend(through(appointment_id=visit.pk, equipment_id=e) for e in eq_ids)
        occupancy.extend(visit_occupancy(visit, visit.room_id, eq_ids))
        events.append(
            AppointmentEvent(
                appointment_id=visit.pk,
                kind="booked",
                from_status="",
                to_status=S.BOOKED,
                actor=visit.booked_by,
                occurred_at=visit.created_at,
            )
        )
        events.append(
            AppointmentEvent(
                appointment_id=visit.pk,
                kind="completed" if visit.status == S.COMPLETED else "no_show",
                from_status=S.BOOKED,
                to_status=visit.status,
                actor=None,
                occurred_at=visit.ends_at,
            )
        )
        audit.append(booking_audit(visit))
    through.objects.bulk_create(links, batch_size=2000)
    Occupancy.objects.bulk_create(occupancy, batch_size=2000)
    AppointmentEvent.objects.bulk_create(events, batch_size=2000)
    audit_record_many(audit)
