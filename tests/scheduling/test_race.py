"""Real concurrent transactions on PostgreSQL: many threads book the same slots at once."""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import connection

from portal.choices import Role
from scheduling.errors import SlotTaken
from scheduling.models import Appointment, Occupancy
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.concurrency import run_in_threads
from tests.factories import PatientFactory, RoomFactory, ServiceFactory, make_staff

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

THREADS = 12


@pytest.mark.django_db(transaction=True)
def test_exactly_one_booking_wins_each_slot(clock, clinic_a, doctor, service):
    registrar = make_staff(Role.REGISTRAR, clinic_a)
    patients = [PatientFactory() for _ in range(THREADS)]
    day = datetime.date(2027, 3, 2)
    slots = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[:3]

    def work(index):
        outcomes = []
        order = list(slots)
        random.Random(index).shuffle(order)
        for slot in order:
            try:
                appointment_book(
                    patient=patients[index],
                    doctor=doctor,
                    service=service,
                    start=slot.start,
                    channel="phone",
                    actor=registrar,
                )
                outcomes.append((slot.start_utc, "won"))
            except SlotTaken:
                outcomes.append((slot.start_utc, "taken"))
        return outcomes

    results = run_in_threads(work, THREADS)
    leaked = [r for r in results if isinstance(r, BaseException)]
    assert leaked == [], leaked
    wins: dict = {}
    for outcomes in results:
        for start, outcome in outcomes:
            wins[start] = wins.get(start, 0) + (outcome == "won")
    assert wins == {slot.start_utc: 1 for slot in slots}
    assert Appointment.objects.count() == len(slots)
    assert Occupancy.objects.count() == len(slots)


@pytest.mark.django_db(transaction=True)
def test_two_doctors_racing_for_one_room_never_share_it(clock, clinic_a):
    from tests.factories import DoctorFactory, make_weekly_schedule

    scan = ServiceFactory(room_kind="ultrasound")
    RoomFactory(clinic=clinic_a, kind="ultrasound")
    doctors = [DoctorFactory(services=[scan]) for _ in range(4)]
    for doc in doctors:
        make_weekly_schedule(doc, clinic_a)
    registrar = make_staff(Role.REGISTRAR, clinic_a)
    patients = [PatientFactory() for _ in doctors]
    start = datetime.datetime(2027, 3, 2, 10, tzinfo=clinic_a.tz)

    def work(index):
        try:
            appointment_book(
                patient=patients[index],
                doctor=doctors[index],
                service=scan,
                start=start,
                channel="phone",
                actor=registrar,
            )
        except SlotTaken:
            return "taken"
        return "won"

    results = run_in_threads(work, len(doctors))
    assert sorted(results) == ["taken"] * (len(doctors) - 1) + ["won"]
    assert Occupancy.objects.filter(resource_kind="r").count() == 1
