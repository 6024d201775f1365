"""Fixtures of the scheduling API suites: a small network with two clinics in different zones,
a therapist who works in clinic A every day 09:00–13:00 (30-minute slots) and in clinic B."""

import datetime
import zoneinfo

import pytest
from django.core.cache import cache

from tests.portal.api.conftest import api, api_as  # noqa: F401
from tests.scheduling.api.builders import (
    make_doctor,
    make_rule,
    make_service,
    make_specialty,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def specialty(db):
    return make_specialty(slug="therapist", name="Терапевт")


@pytest.fixture
def service(specialty):
    return make_service(specialty=specialty, code="therapist-visit", duration=30, price="2500.00")


@pytest.fixture
def doctor(service, clinic_a, doctor_a):
    """The therapist of clinic A, linked to the `doctor_a` login; works every day 09–13."""
    doc = make_doctor(service=service, clinics=[clinic_a], user=doctor_a, last_name="Петрова")
    for weekday in range(7):
        make_rule(doctor=doc, clinic=clinic_a, weekday=weekday)
    return doc


@pytest.fixture
def doctor_b(service, clinic_b):
    doc = make_doctor(service=service, clinics=[clinic_b], last_name="Сергеев")
    for weekday in range(7):
        make_rule(doctor=doc, clinic=clinic_b, weekday=weekday)
    return doc


@pytest.fixture
def tomorrow_a(clinic_a):
    """Tomorrow's date in clinic A's zone."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(clinic_a.timezone))
    return now.date() + datetime.timedelta(days=1)


def at(clinic, day, hour, minute=0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic.tz)
