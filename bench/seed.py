"""The benchmark's own network, seeded in two steps so query counts can be compared across
two data sizes.

Catalogue, schedules and people are configuration data and are written with `bulk_create`
(the blind indexes computed first, as the demo seeder does). Existing bookings, which the
free-slot computation has to subtract, go through the engine's own booking service so their
occupancy rows are exactly what production writes.

Shape of the network (per clinic): every specialty has `DOCTORS_PER_SPECIALTY` doctors, each
working three weekdays 09:00–15:00 (a break at 12:00–12:30, a 30-minute step), in one cabinet.
Clinics alternate between two zones (Europe/Moscow, Asia/Irkutsk) so slots are computed in two
offsets. With four clinics the measured request (one specialty, 30 days, the whole network)
answers roughly a thousand slots.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from knox.models import get_token_model

from portal.models import Clinic, LegalEntity, Patient, User
from scheduling.choices import RoomKind
from scheduling.models import BookingPolicy, Doctor, Room, ScheduleRule, Service, Specialty

ZONES = ("Europe/Moscow", "Asia/Irkutsk")
SPECIALTIES = (
    ("therapist", "Терапевт"),
    ("cardiologist", "Кардиолог"),
    ("neurologist", "Невролог"),
    ("dermatologist", "Дерматолог"),
    ("ophthalmologist", "Офтальмолог"),
)
DOCTORS_PER_SPECIALTY = 2
WORKDAYS = ((0, 2, 4), (1, 3, 5))  # Mon/Wed/Fri or Tue/Thu/Sat
SHIFT = (datetime.time(9, 0), datetime.time(15, 0))
BREAKS = [["12:00", "12:30"]]
STEP_MINUTES = 30
SERVICE_MINUTES = 30
# Patients book through the API without hitting the per-patient limit on every request: the
# benchmark measures the booking path, not that one rule (whose count query runs either way).
MAX_ACTIVE_PER_PATIENT = 10_000


@dataclass
class BenchUser:
    email: str
    token: str
    patient_public_id: str | None = None


@dataclass
class Network:
    clinics: list[Clinic] = field(default_factory=list)
    specialties: dict[str, Specialty] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)  # by specialty slug
    doctors: list[Doctor] = field(default_factory=list)
    patients: list[BenchUser] = field(default_factory=list)
    staff: list[BenchUser] = field(default_factory=list)


def seed_catalogue(network: Network) -> None:
    """Specialties and one 30-minute consultation service per specialty."""
    for index, (slug, name) in enumerate(SPECIALTIES):
        specialty = Specialty.objects.create(slug=slug, name=name)
        network.specialties[slug] = specialty
        network.services[slug] = Service.objects.create(
            code=f"{slug}-consultation",
            name=f"{name}: консультация",
            specialty=specialty,
            duration_minutes=SERVICE_MINUTES,
            price=Decimal(1500 + 250 * index),
        )


@transaction.atomic
def seed_clinics(network: Network, *, first: int, count: int, today: datetime.date) -> None:
    """Clinics `first`..`first+count-1`, each with its doctors, cabinets and weekly rules."""
    entity = LegalEntity.objects.get_or_create(
        inn="3800000001",
        defaults={
            "name": 'ООО "Медфронт Бенч"',
            "short_name": "Медфронт Бенч",
            "legal_address": "г. Иркутск, ул. Ленина, 1",
        },
    )[0]
    for number in range(first, first + count):
        zone = ZONES[number % len(ZONES)]
        clinic = Clinic.objects.create(
            slug=f"bench-{number}",
            name=f"Бенч-клиника {number}",
            legal_entity=entity,
            city="Москва" if zone == "Europe/Moscow" else "Иркутск",
            address=f"ул. Тестовая, {number + 1}",
            timezone=zone,
        )
        BookingPolicy.objects.create(clinic=clinic, max_active_per_patient=MAX_ACTIVE_PER_PATIENT)
        network.clinics.append(clinic)
        doctor_number = 0
        rules = []
        for slug, specialty in network.specialties.items():
            for _ in range(DOCTORS_PER_SPECIALTY):
                doctor = Doctor.objects.create(
                    last_name=f"Врач{number:02d}{doctor_number:02d}",
                    first_name="Бенч",
                    languages=["ru"],
                )
                doctor.specialties.add(specialty)
                doctor.clinics.add(clinic)
                doctor.services.add(network.services[slug])
                room = Room.objects.create(
                    clinic=clinic, name=f"Кабинет {doctor_number + 1}", kind=RoomKind.CONSULTATION
                )
                for weekday in WORKDAYS[doctor_number % 2]:
                    rules.append(
                        ScheduleRule(
                            doctor=doctor,
                            clinic=clinic,
                            weekday=weekday,
                            start_time=SHIFT[0],
                            end_time=SHIFT[1],
                            breaks=BREAKS,
                            slot_step_minutes=STEP_MINUTES,
                            room=room,
                            valid_from=today - datetime.timedelta(days=30),
                        )
                    )
                network.doctors.append(doctor)
                doctor_number += 1
        ScheduleRule.objects.bulk_create(rules)


@transaction.atomic
def seed_patients(network: Network, *, count: int, prefix: str, rng: random.Random) -> None:
    """`count` patients with logins and API tokens (no usable password: tokens only)."""
    unusable = make_password(None)
    users = [
        User(email=f"{prefix}{i}@bench.example.test", password=unusable, is_active=True)
        for i in range(count)
    ]
    # PostgreSQL returns the new primary keys from a bulk insert.
    User.objects.bulk_create(users, batch_size=500)
    patients = []
    for i, user in enumerate(users):
        patient = Patient(
            user=user,
            last_name=f"Бенчев{i}",
            first_name="Пациент",
            birth_date=datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
            phone=f"+7914{rng.randrange(10_000_000):07d}",
            email=user.email,
            preferred_language="ru",
        )
        patient.refresh_blind_indexes()
        patients.append(patient)
    Patient.objects.bulk_create(patients, batch_size=500)
    # knox's public API: `create(user)` stores the digest and returns the token once.
    tokens = [get_token_model().objects.create(user)[1] for user in users]
    for user, patient, token in zip(users, patients, tokens, strict=True):
        network.patients.append(BenchUser(user.email, token, str(patient.public_id)))
