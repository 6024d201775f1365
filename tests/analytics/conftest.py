"""A small fixed dataset whose KPIs are worked out by hand in `test_kpis.py`.

A Berlin clinic (DST starts on Sunday 29 March 2026: 02:00 → 03:00) with one doctor working
09:00–13:00 every day, and a Moscow clinic with one visit of its own. Every time is written
in the clinic's local time.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.choices import Role
from scheduling.choices import AppointmentEventKind
from scheduling.choices import AppointmentStatus as S
from scheduling.models import Appointment, AppointmentEvent, RollbackRecord
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)

BERLIN = ZoneInfo("Europe/Berlin")
MOSCOW = ZoneInfo("Europe/Moscow")
FIRST = datetime.date(2026, 3, 28)
LAST = datetime.date(2026, 3, 30)
# Long after the period: nothing in it is read live, and the 90 days have passed.
LATER = datetime.datetime(2026, 7, 1, 12, tzinfo=datetime.UTC)


def at(tz, day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=tz)


class Network:
    def __init__(self):
        self.berlin = ClinicFactory(slug="berlin", name="Berlin Mitte", timezone="Europe/Berlin")
        self.moscow = ClinicFactory(slug="moscow", name="Москва Арбат", timezone="Europe/Moscow")
        self.service = ServiceFactory(name="Терапевт", price=Decimal("1000.00"))
        self.doctor = DoctorFactory(services=[self.service], clinics=[self.berlin])
        self.moscow_doctor = DoctorFactory(services=[self.service], clinics=[self.moscow])
        make_weekly_schedule(self.doctor, self.berlin)
        self.p1 = PatientFactory()
        self.p2 = PatientFactory()
        self.p3 = PatientFactory()

    def visit(
        self,
        *,
        starts,
        created,
        status=S.BOOKED,
        channel="online",
        price="1000.00",
        patient=None,
        late=False,
        clinic=None,
        doctor=None,
        minutes=30,
    ) -> Appointment:
        return Appointment.objects.create(
            patient=patient or self.p3,
            doctor=doctor or self.doctor,
            clinic=clinic or self.berlin,
            service=self.service,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(minutes=minutes),
            status=status,
            channel=channel,
            price=Decimal(price),
            late_cancel=late,
            created_at=created,
            updated_at=created,
        )

    def rollback(self, appointment: Appointment, occurred) -> RollbackRecord:
        event = AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEventKind.BOOKED,
            to_status=S.BOOKED,
            occurred_at=appointment.created_at,
        )
        return RollbackRecord.objects.create(
            appointment=appointment,
            undone_event=event,
            kind=RollbackRecord.Kind.BOOKING,
            clinic=appointment.clinic,
            occurred_at=occurred,
        )


@pytest.fixture
def net(db) -> Network:
    n = Network()
    b = BERLIN
    # A: made before the period; P1's first completed visit (a new patient).
    n.visit(starts=at(b, 28, 9), created=at(b, 27, 10), status=S.COMPLETED, patient=n.p1)
    # B: a no-show.
    n.visit(starts=at(b, 28, 10), created=at(b, 27, 23, 30), status=S.NO_SHOW, channel="phone")
    # C: made at 00:30 on the 28th in Berlin, which is still the 27th in UTC; completed on the
    # DST day, P1's second visit (returning).
    n.visit(
        starts=at(b, 29, 9),
        created=at(b, 28, 0, 30),
        status=S.COMPLETED,
        price="1500.00",
        patient=n.p1,
    )
    # D: a walk-in cancelled late on the DST day.
    n.visit(
        starts=at(b, 29, 10),
        created=at(b, 29, 8, 50),
        status=S.CANCELLED,
        channel="walk_in",
        late=True,
    )
    # E: cancelled in time.
    n.visit(starts=at(b, 30, 9), created=at(b, 29, 11), status=S.CANCELLED)
    # F: a wrong phone booking, rolled back the same day.
    wrong = n.visit(
        starts=at(b, 30, 11), created=at(b, 29, 11, 55), status=S.ROLLED_BACK, channel="phone"
    )
    n.rollback(wrong, at(b, 29, 12))
    # G: made and checked in on Monday.
    n.visit(starts=at(b, 30, 12), created=at(b, 30, 8), status=S.CHECKED_IN)
    # H: 00:30 on Monday in Berlin is Sunday 22:30 UTC: a Monday visit.
    n.visit(starts=at(b, 30, 0, 30), created=at(b, 29, 20), channel="phone")
    # I: P2's only completed visit (a new patient who does not come back).
    n.visit(
        starts=at(b, 30, 13),
        created=at(b, 20, 9),
        status=S.COMPLETED,
        price="800.00",
        patient=n.p2,
    )
    # The Moscow clinic's one visit.
    n.visit(
        starts=at(MOSCOW, 29, 9),
        created=at(MOSCOW, 29, 8),
        status=S.COMPLETED,
        clinic=n.moscow,
        doctor=n.moscow_doctor,
        price="5000.00",
    )
    return n


@pytest.fixture
def berlin_admin(net):
    return make_staff(Role.CLINIC_ADMIN, net.berlin, email="admin-berlin@example.test")


@pytest.fixture
def moscow_admin(net):
    return make_staff(Role.CLINIC_ADMIN, net.moscow, email="admin-moscow@example.test")
