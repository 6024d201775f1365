"""The doctors a bulk history (`bench.history`) is loaded on: the catalogue and the people who
see patients, written with `bulk_create` — specialties and their services,
`DOCTORS_PER_CLINIC` doctors per clinic, each in a cabinet of their own with weekly rules
(five days of `SHIFT`, `STEP_MINUTES`-minute steps) — and each doctor's `Seat` in the history.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

DOCTORS_PER_CLINIC = 24
SHIFT = (datetime.time(8, 0), datetime.time(20, 0))
STEP_MINUTES = 30
WORKDAYS = ((0, 1, 2, 3, 4), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6), (0, 1, 3, 4, 5))
# (slug, name, service price in roubles)
SPECIALTIES = (
    ("h-therapist", "Терапевт", 1900),
    ("h-cardiologist", "Кардиолог", 2900),
    ("h-neurologist", "Невролог", 2700),
    ("h-dermatologist", "Дерматолог", 2400),
    ("h-ophthalmologist", "Офтальмолог", 2300),
    ("h-gynaecologist", "Гинеколог", 2600),
    ("h-urologist", "Уролог", 2600),
    ("h-ent", "Оториноларинголог", 2200),
)


@dataclass
class Seat:
    """One doctor's place in the history: clinic, cabinet, service and weekdays."""

    doctor_id: int
    clinic_id: int
    room_id: int
    zone: datetime.tzinfo
    service_id: int
    minutes: int
    price: Decimal
    weekdays: tuple[int, ...]


@dataclass
class Staff:
    seats: list[Seat] = field(default_factory=list)
    services: list = field(default_factory=list)
    specialties: list = field(default_factory=list)


def staff(clinics: list, *, doctors_per_clinic: int = DOCTORS_PER_CLINIC, since=None) -> Staff:
    """Specialties, services, doctors, cabinets and weekly rules for `clinics` (bulk)."""
    from django.db import transaction

    from scheduling.choices import RoomKind
    from scheduling.models import Doctor, Room, ScheduleRule, Service, Specialty

    since = since or datetime.date(2000, 1, 1)
    result = Staff()
    with transaction.atomic():
        specialties = Specialty.objects.bulk_create(
            [Specialty(slug=slug, name=name) for slug, name, _ in SPECIALTIES]
        )
        services = Service.objects.bulk_create(
            [
                Service(
                    code=f"{slug}-visit",
                    name=f"{name}: приём",
                    specialty=specialty,
                    duration_minutes=STEP_MINUTES,
                    price=Decimal(price),
                )
                for (slug, name, price), specialty in zip(SPECIALTIES, specialties, strict=True)
            ]
        )
        result.specialties, result.services = specialties, services
        doctors, rooms, places = [], [], []
        for clinic in clinics:
            for number in range(doctors_per_clinic):
                index = number % len(services)
                doctors.append(
                    Doctor(
                        last_name=f"История{clinic.pk:02d}{number:03d}",
                        first_name="Врач",
                        languages=["ru"],
                    )
                )
                rooms.append(
                    Room(clinic=clinic, name=f"Кабинет И{number + 1}", kind=RoomKind.CONSULTATION)
                )
                places.append((clinic, index, WORKDAYS[number % len(WORKDAYS)]))
        Doctor.objects.bulk_create(doctors, batch_size=1000)
        Room.objects.bulk_create(rooms, batch_size=1000)
        Doctor.specialties.through.objects.bulk_create(
            [
                Doctor.specialties.through(doctor_id=d.pk, specialty_id=specialties[i].pk)
                for d, (_c, i, _w) in zip(doctors, places, strict=True)
            ]
        )
        Doctor.services.through.objects.bulk_create(
            [
                Doctor.services.through(doctor_id=d.pk, service_id=services[i].pk)
                for d, (_c, i, _w) in zip(doctors, places, strict=True)
            ]
        )
        Doctor.clinics.through.objects.bulk_create(
            [
                Doctor.clinics.through(doctor_id=d.pk, clinic_id=c.pk)
                for d, (c, _i, _w) in zip(doctors, places, strict=True)
            ]
        )
        ScheduleRule.objects.bulk_create(
            [
                ScheduleRule(
                    doctor=doctor,
                    clinic=clinic,
                    weekday=weekday,
                    start_time=SHIFT[0],
                    end_time=SHIFT[1],
                    slot_step_minutes=STEP_MINUTES,
                    room=room,
                    valid_from=since,
                )
                for doctor, room, (clinic, _i, weekdays) in zip(doctors, rooms, places, strict=True)
                for weekday in weekdays
            ],
            batch_size=2000,
        )
    for doctor, room, (clinic, index, weekdays) in zip(doctors, rooms, places, strict=True):
        service = services[index]
        result.seats.append(
            Seat(
                doctor_id=doctor.pk,
                clinic_id=clinic.pk,
                room_id=room.pk,
                zone=zoneinfo.ZoneInfo(clinic.timezone),
                service_id=service.pk,
                minutes=service.duration_minutes,
                price=service.price,
                weekdays=weekdays,
            )
        )
    return result
