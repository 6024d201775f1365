"""Small builders of scheduling rows for the API suites (the engine's own factories may differ)."""

import datetime
import itertools
from decimal import Decimal

from scheduling.models import Doctor, ScheduleRule, Service, Specialty

_seq = itertools.count(1)


def make_specialty(**kwargs) -> Specialty:
    n = next(_seq)
    kwargs.setdefault("slug", f"specialty-{n}")
    kwargs.setdefault("name", f"Specialty {n}")
    return Specialty.objects.create(**kwargs)


def make_service(*, specialty, duration=30, price="1000.00", **kwargs) -> Service:
    n = next(_seq)
    kwargs.setdefault("code", f"service-{n}")
    kwargs.setdefault("name", f"Service {n}")
    kwargs.setdefault("preparation", "Come 10 minutes early.")
    return Service.objects.create(
        specialty=specialty, duration_minutes=duration, price=Decimal(price), **kwargs
    )


def make_doctor(*, service, clinics, user=None, **kwargs) -> Doctor:
    kwargs.setdefault("last_name", "Доктор")
    kwargs.setdefault("first_name", "Ирина")
    kwargs.setdefault("bio", "Therapist, 12 years of practice.")
    kwargs.setdefault("languages", ["ru", "en"])
    doctor = Doctor.objects.create(user=user, **kwargs)
    doctor.specialties.add(service.specialty)
    doctor.services.add(service)
    doctor.clinics.add(*clinics)
    return doctor


def make_rule(*, doctor, clinic, weekday, start="09:00", end="13:00", step=30, **kwargs):
    return ScheduleRule.objects.create(
        doctor=doctor,
        clinic=clinic,
        weekday=weekday,
        start_time=datetime.time.fromisoformat(start),
        end_time=datetime.time.fromisoformat(end),
        slot_step_minutes=step,
        valid_from=datetime.date(2020, 1, 1),
        **kwargs,
    )
