"""The medical side of the demo network: specialties, services with rouble prices, rooms,
equipment, 24 doctors with schedules (`demo_network`), a year of past visits and the weeks ahead
(`demo_history`) with what happened around them (booking requests and the waiting list in
`demo_outcomes`, the messages sent in `demo_messages`), the head nurse's board and the desk's
booking requests.

History is written through a bulk path (appointments, their occupancy rows, events and audit
rows in a few INSERTs) so the database constraints still hold and the trail exists; the demo
patient's upcoming visits go through the real booking service.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from faker import Faker

from portal.demo import DemoContext
from portal.models import Patient
from scheduling.choices import (
    QUOTA_CHANNEL_OF,
    AppointmentChannel,
    AppointmentStatus,
    BookingMode,
    DayPart,
    QuotaChannel,
    RoomKind,
)
from scheduling.demo_connector import seed_connector_clinic
from scheduling.demo_history import seed_history
from scheduling.demo_messages import seed_messages
from scheduling.demo_network import (
    DemoDoctor,
    seed_catalogue,
    seed_doctors,
    seed_prices_and_promotions,
    seed_rooms_and_equipment,
)
from scheduling.demo_outcomes import seed_requests, seed_waitlist
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    BookingPolicy,
    Doctor,
    QuotaCounter,
    Room,
    Service,
    Specialty,
)
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.booking_requests import booking_request_create
from scheduling.services.closures import resource_closure_create
from scheduling.services.quota_editor import quota_create, quota_day_set
from scheduling.services.waitlist import waitlist_join
from scheduling.services.waitlist_offers import waitlist_entry_prioritise

S = AppointmentStatus

CLINIC_SLUGS = ("irkutsk-centre", "irkutsk-levoberezhny", "moscow-arbat")
# Takes booking requests that its desk confirms instead of showing free times to patients.
REQUEST_MODE_CLINIC = "irkutsk-levoberezhny"
# Booked online, these wait for a prepayment in every demo clinic.
PREPAID_SERVICES = ("cardiologist-first",)


def seed(ctx: DemoContext) -> None:
    if Doctor.objects.exists():
        ctx.log("scheduling: already seeded")
        return
    fake = Faker("ru_RU")
    fake.seed_instance(ctx.rng.randint(0, 2**31))
    clinics = {slug: ctx.clinics[slug] for slug in CLINIC_SLUGS if slug in ctx.clinics}
    with transaction.atomic():
        services = seed_catalogue()
        rooms, equipment = seed_rooms_and_equipment(clinics)
        doctors = seed_doctors(ctx, fake, clinics, services, rooms)
        for clinic in clinics.values():
            policy, _created = BookingPolicy.objects.get_or_create(clinic=clinic)
            # Shows the online prepayment with the test provider on `make run`.
            policy.prepaid_services.add(*(services[code] for code in PREPAID_SERVICES))
            if clinic.slug == REQUEST_MODE_CLINIC:
                policy.mode = BookingMode.REQUEST
                policy.save(update_fields=["mode"])
        seed_prices_and_promotions(clinics, services)
        count = seed_history(ctx, doctors, equipment)
        requests = seed_requests(ctx, clinics.get(REQUEST_MODE_CLINIC))
        freed = seed_waitlist(ctx, {d.doctor.pk: d.specialty for d in doctors})
        messages = seed_messages(ctx)
        _requests(ctx, clinics.get(REQUEST_MODE_CLINIC))
    upcoming = _demo_patient_upcoming(ctx, doctors)
    waiting = _live_waitlist(ctx, clinics)
    handed = _nurse_board(ctx, clinics, doctors)
    # A clinic per booking mode: native, request (Левобережный) and connector.
    seed_connector_clinic(ctx)
    ctx.log(
        f"scheduling: {len(services)} services, {len(doctors)} doctors, {count} visits in bulk, "
        f"{upcoming} upcoming for the demo patient, {handed} visits of a closed room to rebook, "
        f"{waiting} patients waiting for an earlier time"
    )
    ctx.log(
        f"scheduling: {requests} past booking requests, {freed} slots freed to the waiting "
        f"list, {messages} messages of the past year"
    )


NURSE_CLINIC = "irkutsk-centre"


def _nurse_board(ctx: DemoContext, clinics, doctors: list[DemoDoctor]) -> int:
    """Something for the head nurse's board in the first clinic: an online quota of one
    doctor (with Saturday's limit halved), a phone quota of the clinic, their counts of the
    two weeks ahead, and the procedure room closed for a morning from the day after tomorrow
    on, one with ECGs booked (its visits go to the desk). The number of visits handed to the
    desk."""
    clinic = clinics.get(NURSE_CLINIC)
    if clinic is None:
        return 0
    doctor = next(d.doctor for d in doctors if any(r.clinic_id == clinic.pk for r in d.rules))
    online = quota_create(
        clinic=clinic, channel=QuotaChannel.ONLINE, limit=8, doctor=doctor, actor=None
    )
    phone = quota_create(clinic=clinic, channel=QuotaChannel.PHONE, limit=40, actor=None)
    first = ctx.today
    last = first + datetime.timedelta(days=13)
    visits = Appointment.objects.filter(
        clinic=clinic,
        status__in=(S.BOOKED, S.CONFIRMED),
        starts_at__date__gte=first - datetime.timedelta(days=1),
        starts_at__date__lte=last + datetime.timedelta(days=1),
    ).values_list("doctor_id", "channel", "starts_at")
    counts: dict[tuple[int, datetime.date], int] = {}
    for doctor_id, channel, starts_at in visits:
        day = starts_at.astimezone(clinic.tz).date()
        for quota in (online, phone):
            if QUOTA_CHANNEL_OF.get(channel) == quota.channel and quota.matches(
                doctor_id=doctor_id, service_id=0
            ):
                counts[(quota.pk, day)] = counts.get((quota.pk, day), 0) + 1
    QuotaCounter.objects.bulk_create(
        QuotaCounter(quota_id=quota_id, date=day, used=used)
        for (quota_id, day), used in counts.items()
        if first <= day <= last
    )
    saturday = first + datetime.timedelta(days=(5 - first.weekday()) % 7)
    quota_day_set(quota=online, day=saturday, limit=4, actor=None)
    room = Room.objects.get(clinic=clinic, kind=RoomKind.PROCEDURE)
    day = _book_procedures(ctx, clinic, first + datetime.timedelta(days=2))
    _closure, tasks = resource_closure_create(
        clinic=clinic,
        room=room,
        starts_at=datetime.datetime.combine(day, datetime.time(8), tzinfo=clinic.tz),
        ends_at=datetime.datetime.combine(day, datetime.time(12), tzinfo=clinic.tz),
        reason="Плановая дезинфекция",
        actor=None,
    )
    return len(tasks)


def _book_procedures(ctx: DemoContext, clinic, first: datetime.date) -> datetime.date:
    """ECGs in the procedure room on the first morning from `first` that has them, booked by
    phone through the booking service, so the room's closure that morning has visits to hand
    to the desk. The day (`first` when no morning within a week has an ECG)."""
    service = Service.objects.filter(code="ecg").first()
    registrar = ctx.users.get("registrar")
    if service is None or registrar is None:
        return first
    slots = free_slots(
        service=service,
        clinic=clinic,
        start_date=first,
        end_date=first + datetime.timedelta(days=6),
    )
    mornings = [slot for slot in slots if slot.start.astimezone(clinic.tz).hour < 12]
    if not mornings:
        return first
    day = mornings[0].start.astimezone(clinic.tz).date()
    that_morning = [slot for slot in mornings if slot.start.astimezone(clinic.tz).date() == day]
    patients = Patient.objects.filter(home_clinic=clinic).order_by("pk")[2:5]
    for patient, slot in zip(patients, that_morning[::2], strict=False):
        _book(ctx, patient, slot, service, clinic, AppointmentChannel.PHONE, actor=registrar)
    return day


def _book(ctx: DemoContext, patient, slot, service, clinic, channel: str, *, actor) -> bool:
    """Book a free `slot` through the booking service; False (logged) when it refuses."""
    try:
        appointment_book(
            patient=patient,
            doctor=Doctor.objects.get(pk=slot.doctor_id),
            service=service,
            start=slot.start,
            channel=channel,
            actor=actor,
            clinic=clinic,
        )
    except BookingError as exc:
        ctx.log(f"scheduling: demo booking skipped ({exc.code})")
        return False
    return True


def _requests(ctx: DemoContext, clinic) -> None:
    """Two open booking requests in the request-mode clinic, for its desk's queue."""
    if clinic is None:
        return
    doctor = Doctor.objects.filter(clinics=clinic, is_active=True).order_by("pk").first()
    service = doctor.services.order_by("pk").first() if doctor else None
    if service is None:
        return
    patients = Patient.objects.filter(home_clinic=clinic).order_by("pk")[:2]
    day = ctx.today + datetime.timedelta(days=2)
    for patient, part in zip(patients, (DayPart.MORNING, DayPart.EVENING), strict=False):
        booking_request_create(
            patient=patient,
            clinic=clinic,
            service=service,
            windows=[{"from": day, "to": day + datetime.timedelta(days=2), "part": part}],
            actor=None,
        )


# Who waits today in each clinic (the staff's leaderboard on `make run`): a service or a
# specialty, an urgent one, one raised by staff, the rest as they joined.
LIVE_WAITLIST = (
    ("therapist-first", None, False, 0),
    ("neurologist-first", None, True, 0),
    (None, "cardiologist", False, 15),
    ("ent-first", None, False, 0),
    (None, "therapist", False, 0),
)


def _live_waitlist(ctx: DemoContext, clinics: dict[str, Any]) -> int:
    """A few patients on each clinic's waiting list now, joined by its registrar through the
    waitlist's services (audited as a desk would have it)."""
    registrar = ctx.users.get("registrar")
    if registrar is None:
        return 0
    joined = 0
    for clinic in clinics.values():
        patients = Patient.objects.filter(home_clinic=clinic).order_by("-pk")[: len(LIVE_WAITLIST)]
        for patient, (code, specialty, urgent, boost) in zip(patients, LIVE_WAITLIST, strict=False):
            entry = waitlist_join(
                patient=patient,
                service=Service.objects.get(code=code) if code else None,
                specialty=Specialty.objects.get(slug=specialty) if specialty else None,
                clinic=clinic,
                date_from=ctx.today,
                date_to=ctx.today + datetime.timedelta(days=ctx.rng.choice((7, 14, 21))),
                actor=registrar,
            )
            if urgent or boost:
                waitlist_entry_prioritise(entry=entry, urgent=urgent, boost=boost, actor=registrar)
            joined += 1
    return joined


def _demo_patient_upcoming(ctx: DemoContext, doctors: list[DemoDoctor]) -> int:
    """Upcoming visits of the demo patient in two clinics, booked by the real service."""
    patient = ctx.demo_patient
    if patient is None or patient.user is None:
        return 0
    booked = 0
    start = ctx.today + datetime.timedelta(days=3)
    for slug in ("irkutsk-centre", "moscow-arbat"):
        clinic = ctx.clinics.get(slug)
        if clinic is None:
            continue
        # The first service with a free slot in this clinic, in catalogue order.
        for code in ("therapist-first", "neurologist-first", "ent-first", "derm-first"):
            service = Service.objects.get(code=code)
            slots = free_slots(
                service=service,
                clinic=clinic,
                start_date=start,
                end_date=start + datetime.timedelta(days=20),
            )
            if not slots:
                continue
            slot = slots[len(slots) // 3]
            if not _book(
                ctx, patient, slot, service, clinic, AppointmentChannel.ONLINE, actor=patient.user
            ):
                continue
            booked += 1
            break
    return booked
