"""Fixtures of the booking-engine suites: a frozen clock and a bookable doctor in clinic A."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import DoctorFactory, ServiceFactory, make_weekly_schedule
from tests.scheduling.payments.yookassa_server import SECRET_KEY, SHOP_ID, FakeYooKassa

UTC = datetime.UTC
# Monday 1 March 2027, 08:00 in Irkutsk (UTC+8), 03:00 in Moscow (UTC+3).
T0 = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=UTC)


class Clock:
    """A settable `timezone.now()` for tests that need a fixed present."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def service(db):
    return ServiceFactory(name="Приём терапевта первичный", duration_minutes=30)


@pytest.fixture
def doctor(clinic_a, service):
    """Works 09:00–13:00 (Irkutsk) every day in clinic A, 30-minute step."""
    doc = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doc, clinic_a)
    return doc


def local(clinic, y, m, d, hh, mm=0, fold=0) -> datetime.datetime:
    return datetime.datetime(y, m, d, hh, mm, tzinfo=clinic.tz, fold=fold)


@pytest.fixture
def prepaid(clinic_a, service):
    """`service`, which clinic A takes prepaid online (the test provider is configured)."""
    from scheduling.models import BookingPolicy

    policy = BookingPolicy.objects.create(clinic=clinic_a)
    policy.prepaid_services.add(service)
    return service


@pytest.fixture
def yookassa(settings):
    """A local YooKassa, configured as the site's provider; webhooks come from 127.0.0.1."""
    fake = FakeYooKassa().start()
    settings.PAYMENT_PROVIDER = "yookassa"
    settings.YOOKASSA_SHOP_ID = SHOP_ID
    settings.YOOKASSA_SECRET_KEY = SECRET_KEY
    settings.YOOKASSA_API_URL = fake.url
    settings.YOOKASSA_WEBHOOK_NETWORKS = ["127.0.0.1/32"]
    yield fake
    fake.stop()
