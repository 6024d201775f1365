"""The demo network's catalogue and staff: specialties and services with rouble prices,
scheduled price changes and a promotion, rooms and equipment, and the doctors with their weekly
rules over the span the demo covers."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from portal.choices import Role
from portal.models import StaffMembership
from scheduling.choices import DiscountKind, PatientSegment, RoomKind
from scheduling.models import (
    Doctor,
    Equipment,
    EquipmentType,
    Promotion,
    Room,
    ScheduleRule,
    Service,
    ServicePrice,
    Specialty,
)


@dataclass
class DemoDoctor:
    """A seeded doctor with what the bulk history follows: the specialty and weekly rules."""

    doctor: Doctor
    specialty: str
    rules: list[ScheduleRule] = field(default_factory=list)


# A year and a month: the dashboard's default period has its same period last year.
PAST_DAYS = 400
AHEAD_DAYS = 56

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
SHIFTS = [(datetime.time(8), datetime.time(14)), (datetime.time(14), datetime.time(20))]
# The lunch break of each shift (by its start hour).
BREAKS = {8: ["11:00", "11:30"], 14: ["17:00", "17:30"]}
# A shift cut to less than this by the clinic's hours is not worked.
SHORTEST_SHIFT = datetime.timedelta(hours=1)

WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
_DAY = "|".join(WEEKDAYS)
OPENING_PART = re.compile(
    rf"(?:(?P<daily>Ежедневно)|(?P<first>{_DAY})(?:–(?P<last>{_DAY}))?)\s+"
    r"(?P<opens>\d{1,2}:\d{2})–(?P<closes>\d{1,2}:\d{2})"
)


def weekly_hours(text: str) -> dict[int, tuple[datetime.time, datetime.time]]:
    """The opening hours a demo clinic publishes ("Пн–Пт 8:00–20:00, Сб 9:00–16:00",
    "Ежедневно 8:00–21:00") by weekday, Monday 0; a day not named is closed."""
    hours = {}
    for part in OPENING_PART.finditer(text):
        opens, closes = (
            datetime.time.fromisoformat(part[name].zfill(5)) for name in ("opens", "closes")
        )
        if part["daily"]:
            days = range(7)
        else:
            first = WEEKDAYS.index(part["first"])
            days = range(first, WEEKDAYS.index(part["last"] or part["first"]) + 1)
        hours.update(dict.fromkeys(days, (opens, closes)))
    return hours


def shift_within_hours(
    shift: tuple[datetime.time, datetime.time],
    hours: tuple[datetime.time, datetime.time] | None,
) -> tuple[datetime.time, datetime.time] | None:
    """The part of `shift` inside the clinic's hours of that day (None: closed, or too short)."""
    if hours is None:
        return None
    start, end = max(shift[0], hours[0]), min(shift[1], hours[1])
    day = datetime.date.min
    if datetime.datetime.combine(day, end) - datetime.datetime.combine(day, start) < SHORTEST_SHIFT:
        return None
    return start, end


def seed_catalogue() -> dict[str, Service]:
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


def seed_prices_and_promotions(clinics, services: dict[str, Service]) -> None:
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


def seed_rooms_and_equipment(clinics):
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


def seed_doctors(ctx, fake, clinics, services, rooms) -> list[DemoDoctor]:
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
                # Shifts keep to the hours the clinic publishes (a short Saturday cuts them).
                opening = weekly_hours(clinics[slug].opening_hours)
                worked = {day: shift_within_hours(shift, opening.get(day)) for day in days}
                rules = ScheduleRule.objects.bulk_create(
                    [
                        ScheduleRule(
                            doctor=doctor,
                            clinic=clinics[slug],
                            weekday=day,
                            start_time=hours[0],
                            end_time=hours[1],
                            breaks=[
                                b
                                for b in [BREAKS[shift[0].hour]]
                                if hours[0].isoformat("minutes") <= b[0]
                                and b[1] <= hours[1].isoformat("minutes")
                            ],
                            slot_step_minutes=30,
                            buffer_minutes=0,
                            room=room,
                            valid_from=valid_from,
                        )
                        for day, hours in worked.items()
                        if hours is not None
                    ]
                )
                seeded.rules.extend(rules)
            doctors.append(seeded)
    return doctors
