"""The medical side of the demo network: specialties, services with rouble prices, rooms,
equipment, 24 doctors with schedules, a year of past visits and the weeks ahead.

History is written through a bulk path (appointments, their occupancy rows, events and audit
rows in a few INSERTs) so the database constraints still hold and the trail exists; the demo
patient's upcoming visits go through the real booking service.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from faker import Faker

from portal.choices import AuditAction, Role
from portal.demo import DemoContext
from portal.models import AuditEvent, Patient, StaffMembership
from portal.services.audit import audit_record_many
from scheduling.choices import (
    QUOTA_CHANNEL_OF,
    AppointmentChannel,
    AppointmentStatus,
    BookingMode,
    DayPart,
    DiscountKind,
    PatientSegment,
    QuotaChannel,
    ResourceKind,
    RoomKind,
)
from scheduling.demo_connector import seed_connector_clinic
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    BookingPolicy,
    Doctor,
    Equipment,
    EquipmentType,
    Occupancy,
    Promotion,
    QuotaCounter,
    RollbackRecord,
    Room,
    ScheduleRule,
    Service,
    ServicePrice,
    Specialty,
)
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.booking_requests import booking_request_create
from scheduling.services.closures import resource_closure_create
from scheduling.services.quota_editor import quota_create, quota_day_set

S = AppointmentStatus
UTC = datetime.UTC


@dataclass
class DemoDoctor:
    """A seeded doctor with what the bulk history follows: the specialty and weekly rules."""

    doctor: Doctor
    specialty: str
    rules: list[ScheduleRule] = field(default_factory=list)


# A year and a month: the dashboard's default period has its same period last year.
PAST_DAYS = 400
AHEAD_DAYS = 56
CLINIC_SLUGS = ("irkutsk-centre", "irkutsk-levoberezhny", "moscow-arbat")
# Takes booking requests that its desk confirms instead of showing free times to patients.
REQUEST_MODE_CLINIC = "irkutsk-levoberezhny"

# slug, name, [(code, service name, minutes, price, room kind, equipment type)]
ServiceRow = tuple[str, str, int, str, str, str]
CATALOGUE: list[tuple[str, str, list[ServiceRow]]] = [
    (
        "therapist",
        "Терапевт",
        [
            ("therapist-first", "Приём терапевта первичный", 30, "2500", "", ""),
            ("therapist-repeat", "Приём терапевта повторный", 30, "2000", "", ""),
        ],
    ),
    (
        "pediatrician",
        "Педиатр",
        [
            ("pediatrician-first", "Приём педиатра первичный", 30, "2300", "", ""),
            ("pediatrician-repeat", "Приём педиатра повторный", 30, "1900", "", ""),
        ],
    ),
    (
        "cardiologist",
        "Кардиолог",
        [
            ("cardiologist-first", "Приём кардиолога первичный", 30, "3200", "", ""),
            ("ecg", "ЭКГ с расшифровкой", 30, "1500", RoomKind.PROCEDURE, "ecg"),
        ],
    ),
    (
        "neurologist",
        "Невролог",
        [
            ("neurologist-first", "Приём невролога первичный", 30, "3000", "", ""),
            ("neurologist-repeat", "Приём невролога повторный", 30, "2500", "", ""),
        ],
    ),
    (
        "gastroenterologist",
        "Гастроэнтеролог",
        [
            ("gastro-first", "Приём гастроэнтеролога первичный", 30, "3100", "", ""),
        ],
    ),
    (
        "endocrinologist",
        "Эндокринолог",
        [
            ("endo-first", "Приём эндокринолога первичный", 30, "3100", "", ""),
        ],
    ),
    (
        "ent",
        "Оториноларинголог (ЛОР)",
        [
            ("ent-first", "Приём ЛОР-врача первичный", 30, "2700", "", ""),
        ],
    ),
    (
        "ophthalmologist",
        "Офтальмолог",
        [
            ("eye-first", "Приём офтальмолога с проверкой зрения", 30, "2800", "", ""),
        ],
    ),
    (
        "gynecologist",
        "Гинеколог",
        [
            ("gyn-first", "Приём гинеколога первичный", 30, "3000", "", ""),
        ],
    ),
    (
        "urologist",
        "Уролог",
        [
            ("uro-first", "Приём уролога первичный", 30, "3000", "", ""),
        ],
    ),
    (
        "dermatologist",
        "Дерматолог",
        [
            ("derm-first", "Приём дерматолога первичный", 30, "2600", "", ""),
        ],
    ),
    (
        "ultrasound",
        "Врач УЗИ",
        [
            ("us-abdomen", "УЗИ органов брюшной полости", 30, "2900", RoomKind.ULTRASOUND, "us"),
            ("us-thyroid", "УЗИ щитовидной железы", 30, "1800", RoomKind.ULTRASOUND, "us"),
        ],
    ),
]
PREPARATION = {
    "us-abdomen": "Натощак: не есть 6–8 часов до исследования, не пить газированные напитки.",
    "ecg": "За час до исследования не курить и не пить кофе.",
}
EQUIPMENT_TYPES = {"us": "Ультразвуковой сканер", "ecg": "Электрокардиограф"}
# Doctors per specialty; single-room specialties have one doctor per clinic.
DOCTORS_PER_SPECIALTY = {
    "therapist": 4,
    "pediatrician": 3,
    "ultrasound": 3,
    "cardiologist": 2,
    "neurologist": 2,
    "gynecologist": 2,
}
# Booked online, these wait for a prepayment in every demo clinic.
PREPAID_SERVICES = ("cardiologist-first",)
SHIFTS = [(datetime.time(8), datetime.time(14)), (datetime.time(14), datetime.time(20))]


def seed(ctx: DemoContext) -> None:
    if Doctor.objects.exists():
        ctx.log("scheduling: already seeded")
        return
    fake = Faker("ru_RU")
    fake.seed_instance(ctx.rng.randint(0, 2**31))
    clinics = {slug: ctx.clinics[slug] for slug in CLINIC_SLUGS if slug in ctx.clinics}
    with transaction.atomic():
        services = _catalogue()
        rooms, equipment = _rooms_and_equipment(clinics)
        doctors = _doctors(ctx, fake, clinics, services, rooms)
        for clinic in clinics.values():
            policy, _created = BookingPolicy.objects.get_or_create(clinic=clinic)
            # Shows the online prepayment with the test provider on `make run`.
            policy.prepaid_services.add(*(services[code] for code in PREPAID_SERVICES))
            if clinic.slug == REQUEST_MODE_CLINIC:
                policy.mode = BookingMode.REQUEST
                policy.save(update_fields=["mode"])
        _prices_and_promotions(clinics, services)
        count = _history(ctx, doctors, equipment)
        _requests(ctx, clinics.get(REQUEST_MODE_CLINIC))
    upcoming = _demo_patient_upcoming(ctx, doctors)
    handed = _nurse_board(ctx, clinics, doctors)
    # A clinic per booking mode: native, request (Левобережный) and connector.
    seed_connector_clinic(ctx)
    ctx.log(
        f"scheduling: {len(services)} services, {len(doctors)} doctors, {count} visits in bulk, "
        f"{upcoming} upcoming for the demo patient, {handed} visits of a closed room to rebook"
    )


NURSE_CLINIC = "irkutsk-centre"


def _nurse_board(ctx: DemoContext, clinics, doctors: list[DemoDoctor]) -> int:
    """Something for the head nurse's board in the first clinic: an online quota of one
    doctor (with Saturday's limit halved), a phone quota of the clinic, their counts of the
    two weeks ahead, and the procedure room closed for a morning the day after tomorrow (its
    visits go to the desk). The number of visits handed to the desk."""
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
    day = first + datetime.timedelta(days=2)
    _closure, tasks = resource_closure_create(
        clinic=clinic,
        room=room,
        starts_at=datetime.datetime.combine(day, datetime.time(8), tzinfo=clinic.tz),
        ends_at=datetime.datetime.combine(day, datetime.time(12), tzinfo=clinic.tz),
        reason="Плановая дезинфекция",
        actor=None,
    )
    return len(tasks)


def _catalogue() -> dict[str, Service]:
    types = {
        slug: EquipmentType.objects.create(slug=slug, name=name)
        for slug, name in EQUIPMENT_TYPES.items()
    }
    services = {}
    for slug, name, items in CATALOGUE:
        specialty = Specialty.objects.create(slug=slug, name=name)
        for position, (code, title, minutes, price, room_kind, equipment) in enumerate(items):
            service = Service.objects.create(
                sort_order=position,
                code=code,
                name=title,
                specialty=specialty,
                duration_minutes=minutes,
                price=Decimal(price),
                room_kind=room_kind,
                preparation=PREPARATION.get(code, ""),
            )
            if equipment:
                service.equipment_types.add(types[equipment])
            services[code] = service
    return services


def _prices_and_promotions(clinics, services: dict[str, Service]) -> None:
    """In the first clinic: the therapist's first visit costs more since last month and more
    again in two weeks (a scheduled change), and a promo code for a first visit."""
    if not clinics:
        return
    clinic = next(iter(clinics.values()))
    today = timezone.now().astimezone(clinic.tz).date()
    therapist = services["therapist-first"]
    ServicePrice.objects.bulk_create(
        [
            ServicePrice(
                clinic=clinic,
                service=therapist,
                price=Decimal("2700"),
                valid_from=today - datetime.timedelta(days=30),
            ),
            ServicePrice(
                clinic=clinic,
                service=therapist,
                price=Decimal("2900"),
                valid_from=today + datetime.timedelta(days=14),
            ),
        ]
    )
    Promotion.objects.create(
        clinic=clinic,
        name="Первый визит −10%",
        kind=DiscountKind.PERCENT,
        value=Decimal("10"),
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=60),
        code="WELCOME10",
        segment=PatientSegment.FIRST_VISIT,
        usage_limit=500,
    )


def _rooms_and_equipment(clinics):
    rooms: dict[tuple[str, str], list[Room]] = {}
    equipment: dict[tuple[str, str], Equipment] = {}
    types = {t.slug: t for t in EquipmentType.objects.all()}
    for slug, clinic in clinics.items():
        rooms[(slug, RoomKind.CONSULTATION)] = Room.objects.bulk_create(
            [
                Room(clinic=clinic, name=f"Кабинет {n}", kind=RoomKind.CONSULTATION)
                for n in range(101, 121)
            ]
        )
        rooms[(slug, RoomKind.ULTRASOUND)] = [
            Room.objects.create(clinic=clinic, name="Кабинет УЗИ", kind=RoomKind.ULTRASOUND)
        ]
        rooms[(slug, RoomKind.PROCEDURE)] = [
            Room.objects.create(clinic=clinic, name="Процедурный", kind=RoomKind.PROCEDURE)
        ]
        for type_slug, type_ in types.items():
            equipment[(slug, type_slug)] = Equipment.objects.create(
                clinic=clinic, type=type_, name=f"{type_.name} №1"
            )
    return rooms, equipment


def _doctors(ctx, fake, clinics, services, rooms) -> list[DemoDoctor]:
    doctor_user = ctx.users.get("doctor")
    user_clinic = (
        StaffMembership.objects.filter(user=doctor_user, role=Role.DOCTOR)
        .values_list("clinic__slug", flat=True)
        .first()
        if doctor_user
        else None
    )
    slugs = list(clinics)
    valid_from = ctx.today - datetime.timedelta(days=PAST_DAYS + 7)
    doctors: list[DemoDoctor] = []
    room_cursor = dict.fromkeys(slugs, 0)
    for specialty_slug, _name, items in CATALOGUE:
        for n in range(DOCTORS_PER_SPECIALTY.get(specialty_slug, 1)):
            female = ctx.rng.random() < 0.6
            doctor = Doctor.objects.create(
                last_name=fake.last_name_female() if female else fake.last_name_male(),
                first_name=fake.first_name_female() if female else fake.first_name_male(),
                middle_name=fake.middle_name_female() if female else fake.middle_name_male(),
                bio=f"Стаж {ctx.rng.randint(4, 30)} лет. Высшая квалификационная категория.",
                languages=["ru", "en"] if ctx.rng.random() < 0.3 else ["ru"],
                registry_id=f"{ctx.rng.randint(10**9, 10**10 - 1)}",
            )
            if doctor_user and specialty_slug == "therapist" and n == 0:
                doctor.user = doctor_user
                doctor.save(update_fields=["user"])
                # The login shows the same person as the doctor's profile.
                doctor_user.display_name = " ".join(
                    (doctor.first_name, doctor.middle_name, doctor.last_name)
                )
                doctor_user.save(update_fields=["display_name"])
            seeded = DemoDoctor(doctor=doctor, specialty=specialty_slug)
            specialty = Specialty.objects.get(slug=specialty_slug)
            doctor.specialties.add(specialty)
            doctor.services.add(*(services[code] for code, *_rest in items))
            needs_room = items[0][4] or (items[-1][4] if specialty_slug == "ultrasound" else "")
            if specialty_slug in ("ultrasound",):
                # One ultrasound room per clinic: one specialist each.
                where = [slugs[n % len(slugs)]]
            elif doctor.user_id and user_clinic in clinics:
                where = [user_clinic, *[s for s in slugs if s != user_clinic][:1]]
            else:
                where = ctx.rng.sample(slugs, k=1 if ctx.rng.random() < 0.6 else 2)
            doctor.clinics.add(*(clinics[s] for s in where))
            for index, slug in enumerate(where):
                if needs_room == RoomKind.ULTRASOUND:
                    room = rooms[(slug, RoomKind.ULTRASOUND)][0]
                else:
                    pool = rooms[(slug, RoomKind.CONSULTATION)]
                    room = pool[room_cursor[slug] % len(pool)]
                    room_cursor[slug] += 1
                shift = SHIFTS[(len(doctors) + index) % 2]
                days = [0, 2, 4] if len(where) == 2 and index == 0 else [1, 3]
                if len(where) == 1:
                    days = [0, 1, 2, 3, 4] if ctx.rng.random() < 0.7 else [0, 1, 2, 3, 4, 5]
                rules = ScheduleRule.objects.bulk_create(
                    [
                        ScheduleRule(
                            doctor=doctor,
                            clinic=clinics[slug],
                            weekday=day,
                            start_time=shift[0],
                            end_time=shift[1],
                            breaks=[["11:00", "11:30"]]
                            if shift[0].hour == 8
                            else [["17:00", "17:30"]],
                            slot_step_minutes=30,
                            buffer_minutes=0,
                            room=room,
                            valid_from=valid_from,
                        )
                        for day in days
                    ]
                )
                seeded.rules.extend(rules)
            doctors.append(seeded)
    return doctors


def _history(ctx: DemoContext, doctors: list[DemoDoctor], equipment) -> int:
    """Past year and coming weeks, in bulk: slots follow each doctor's rules back to back, so
    no two rows of one doctor, room or piece of equipment overlap."""
    rng = ctx.rng
    now = timezone.now()
    patients = [p for p in ctx.patients if p != ctx.demo_patient] or list(ctx.patients)
    registrar = ctx.users.get("registrar")
    clinics_by_id = {c.pk: (slug, c) for slug, c in ctx.clinics.items()}
    # The demo patient gets a few past visits in two clinics.
    demo_visits = dict.fromkeys(("irkutsk-centre", "moscow-arbat"), 0)
    equipment_types = {
        s.pk: [t.slug for t in s.equipment_types.all()]
        for s in Service.objects.prefetch_related("equipment_types")
    }
    appointments: list[Appointment] = []
    extras: list[tuple] = []  # (appointment index, room id, equipment ids, final kind)
    for seeded in doctors:
        doctor = seeded.doctor
        # Only the one specialist per clinic uses the shared ultrasound room and scanner in
        # the bulk history, so shared rooms and equipment never overlap by construction.
        services = [
            s for s in doctor.services.all() if not s.room_kind or seeded.specialty == "ultrasound"
        ]
        for rule in seeded.rules:
            slug, clinic = clinics_by_id[rule.clinic_id]
            tz = clinic.tz
            for offset in range(-PAST_DAYS, AHEAD_DAYS + 1):
                day = ctx.today + datetime.timedelta(days=offset)
                if day.weekday() != rule.weekday or offset == 0:
                    continue
                density = 0.3 if offset < 0 else 0.25 * (1 - offset / (AHEAD_DAYS + 10))
                minute = rule.start_time.hour * 60
                end = rule.end_time.hour * 60
                while minute + 30 <= end:
                    start_local = datetime.datetime.combine(
                        day, datetime.time(minute // 60, minute % 60), tzinfo=tz
                    )
                    minute += 30
                    in_break = any(
                        b[0] <= start_local.strftime("%H:%M") < b[1] for b in rule.breaks
                    )
                    if in_break or rng.random() > density:
                        continue
                    starts = start_local.astimezone(UTC)
                    service = rng.choice(services)
                    # The network grows: 40 % of the patients came in the first month of the
                    # history, the rest join through the year (new patients, retention).
                    joined = 0.4 + 0.6 * min(1.0, (offset + PAST_DAYS) / PAST_DAYS)
                    patient = rng.choice(patients[: max(1, int(len(patients) * joined))])
                    if (
                        offset < -7
                        and ctx.demo_patient is not None
                        and demo_visits.get(slug, 9) < 3
                        and rng.random() < 0.01
                    ):
                        patient = ctx.demo_patient
                        demo_visits[slug] += 1
                    status, kind = _outcome(rng, past=offset < 0)
                    created = starts - datetime.timedelta(days=rng.randint(1, 20))
                    if created >= now:
                        # Booked over the last weeks, not all at the moment the seed runs.
                        hours = max(14, 20 - offset) * 24
                        created = now - datetime.timedelta(hours=rng.randint(1, hours))
                    a = Appointment(
                        patient=patient,
                        doctor=doctor,
                        clinic=clinic,
                        service=service,
                        room_id=rule.room_id,
                        starts_at=starts,
                        ends_at=starts + datetime.timedelta(minutes=service.duration_minutes),
                        status=status,
                        channel=rng.choice(
                            [AppointmentChannel.ONLINE] * 5
                            + [AppointmentChannel.PHONE] * 4
                            + [AppointmentChannel.WALK_IN]
                        ),
                        price=service.price,
                        booked_by=registrar,
                        created_at=created,
                        updated_at=created,
                    )
                    _stamp(a, status, starts, created, rng, now)
                    appointments.append(a)
                    eq_ids = [equipment[(slug, t)].pk for t in equipment_types[service.pk]]
                    extras.append((len(appointments) - 1, rule.room_id, eq_ids, kind))
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    occupancy: list[Occupancy] = []
    events: list[AppointmentEvent] = []
    audit: list[AuditEvent] = []
    through = Appointment.equipment.through
    links: list[Any] = []
    # Rolled-back visits, the index of their booking event, when they were undone.
    undone: list[tuple[Appointment, int, datetime.datetime]] = []
    for index, room_id, eq_ids, kind in extras:
        a = appointments[index]
        links.extend(through(appointment_id=a.pk, equipment_id=e) for e in eq_ids)
        if a.status not in (S.CANCELLED, S.ROLLED_BACK):
            spans = [(ResourceKind.DOCTOR, a.doctor_id), (ResourceKind.ROOM, room_id)]
            spans += [(ResourceKind.EQUIPMENT, e) for e in eq_ids]
            occupancy.extend(
                Occupancy(
                    resource_kind=k,
                    resource_id=r,
                    clinic_id=a.clinic_id,
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    appointment_id=a.pk,
                )
                for k, r in spans
            )
        if a.status == S.ROLLED_BACK and a.rolled_back_at is not None:
            undone.append((a, len(events), a.rolled_back_at))
        events.append(
            AppointmentEvent(
                appointment_id=a.pk,
                kind="booked",
                from_status="",
                to_status=S.BOOKED,
                actor=registrar,
                occurred_at=a.created_at,
            )
        )
        if kind:
            events.append(
                AppointmentEvent(
                    appointment_id=a.pk,
                    kind=kind,
                    from_status=S.BOOKED,
                    to_status=a.status,
                    actor=registrar,
                    occurred_at=a.updated_at,
                    reason=a.cancel_reason,
                )
            )
        audit.append(
            AuditEvent(
                occurred_at=a.created_at,
                actor_id=registrar.pk if registrar else None,
                actor_public_id=str(registrar.public_id) if registrar else "",
                role=Role.REGISTRAR,
                clinic_id=a.clinic_id,
                action=AuditAction.CREATE,
                object_type="scheduling.appointment",
                object_id=str(a.public_id),
                patient_ids=[str(a.patient.public_id)],
                changed_fields=["clinic", "doctor", "service", "starts_at", "status"],
            )
        )
    through.objects.bulk_create(links, batch_size=2000)
    Occupancy.objects.bulk_create(occupancy, batch_size=2000)
    AppointmentEvent.objects.bulk_create(events, batch_size=2000)
    RollbackRecord.objects.bulk_create(
        RollbackRecord(
            appointment_id=a.pk,
            undone_event_id=events[index].pk,
            kind=RollbackRecord.Kind.BOOKING,
            clinic_id=a.clinic_id,
            actor=registrar,
            reason=rng.choice(["Не тот врач", "Не та пациентка", "Ошибся датой", ""]),
            occurred_at=when,
        )
        for a, index, when in undone
    )
    audit_record_many(audit)
    return len(appointments)


def _outcome(rng, *, past: bool) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.004:
        # A wrong booking the registrar undid with the red button within minutes.
        return S.ROLLED_BACK, "rolled_back"
    if roll < 0.12:
        return S.CANCELLED, "cancelled"
    if not past:
        return (S.CONFIRMED, "confirmed") if roll < 0.4 else (S.BOOKED, "")
    if roll < 0.19:
        return S.NO_SHOW, "no_show"
    return S.COMPLETED, "completed"


def _stamp(a: Appointment, status: str, starts, created, rng, now) -> None:
    if status == S.CANCELLED:
        hours_before = rng.choice([2, 5, 30, 48, 72])
        a.cancelled_at = min(max(created, starts - datetime.timedelta(hours=hours_before)), now)
        a.late_cancel = hours_before < 24
        a.cancel_reason = rng.choice(["Заболел", "Изменились планы", "Перенесу позже", ""])
        a.updated_at = a.cancelled_at
    elif status == S.ROLLED_BACK:
        a.rolled_back_at = created + datetime.timedelta(minutes=rng.randint(1, 9))
        a.updated_at = a.rolled_back_at
    elif status == S.COMPLETED:
        a.checked_in_at = starts - datetime.timedelta(minutes=10)
        a.completed_at = a.ends_at
        a.updated_at = a.completed_at
    elif status == S.NO_SHOW:
        a.no_show_at = a.ends_at
        a.updated_at = a.no_show_at
    elif status == S.CONFIRMED:
        a.confirmed_at = created
        a.updated_at = created


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
            try:
                appointment_book(
                    patient=patient,
                    doctor=Doctor.objects.get(pk=slot.doctor_id),
                    service=service,
                    start=slot.start,
                    channel=AppointmentChannel.ONLINE,
                    actor=patient.user,
                    clinic=clinic,
                )
            except BookingError as exc:
                ctx.log(f"scheduling: demo booking skipped ({exc.code})")
                continue
            booked += 1
            break
    return booked
