"""Real concurrent YES replies on PostgreSQL: the first wins, the others are told it is taken."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from notifications.models import OutboxMessage
from portal.choices import Role
from scheduling.choices import FreedSlotStatus, WaitlistOfferStatus
from scheduling.models import Appointment, FreedSlot, Hold, Occupancy, WaitlistEntry, WaitlistOffer
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.waitlist_offers import (
    waitlist_offer_reply,
    waitlist_offers_advance,
    waitlist_slot_freed,
)
from tests.concurrency import run_in_threads
from tests.factories import PatientFactory, make_staff
from tests.scheduling.conftest import T0, local

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def freed_slot(clinic, doctor, service) -> tuple[FreedSlot, list]:
    """Five patients wait; Tuesday 09:00 is cancelled and offered to the best three."""
    registrar = make_staff(Role.REGISTRAR, clinic)
    patients = [PatientFactory() for _ in range(5)]
    for rank, patient in enumerate(patients):
        WaitlistEntry.objects.create(
            patient=patient,
            service=service,
            date_from=datetime.date(2027, 3, 1),
            date_to=datetime.date(2027, 3, 5),
            created_at=T0 - datetime.timedelta(days=30 * (5 - rank)),
        )
    visit = appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=local(clinic, 2027, 3, 2, 9),
        channel="phone",
        actor=registrar,
    )
    appointment_cancel(appointment=visit, actor=registrar)
    return waitlist_slot_freed(appointment_id=visit.pk), patients


@pytest.mark.django_db(transaction=True)
def test_three_simultaneous_yes_replies_make_exactly_one_booking(clock, clinic_a, doctor, service):
    slot, patients = freed_slot(clinic_a, doctor, service)
    offered = patients[:3]
    assert {o.patient for o in WaitlistOffer.objects.filter(slot=slot)} == set(offered)

    def work(index):
        return waitlist_offer_reply(patient=offered[index], accept=True, channel="sms").status

    results = run_in_threads(work, 3)
    leaked = [r for r in results if isinstance(r, BaseException)]
    assert leaked == [], leaked
    assert sorted(results) == sorted(
        [WaitlistOfferStatus.ACCEPTED, WaitlistOfferStatus.TAKEN, WaitlistOfferStatus.TAKEN]
    )
    booked = Appointment.objects.filter(starts_at=slot.starts_at, status="booked")
    assert booked.count() == 1
    winner = booked.get().patient
    assert winner in offered
    slot.refresh_from_db()
    assert slot.status == FreedSlotStatus.FILLED and slot.filled_by == booked.get()
    losers = [p for p in offered if p != winner]
    taken = OutboxMessage.objects.filter(event="waitlist.taken")
    assert {m.patient for m in taken} == set(losers)
    assert Hold.objects.count() == 0
    assert Occupancy.objects.filter(appointment__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_expiry_moves_on_to_the_next_batch(clock, clinic_a, doctor, service):
    slot, patients = freed_slot(clinic_a, doctor, service)
    clock.advance(minutes=7)
    results = run_in_threads(lambda _index: waitlist_offers_advance(), 2)
    assert sorted(results) == [0, 1]  # one worker moved it, the other skipped it
    live = WaitlistOffer.objects.filter(slot=slot, status=WaitlistOfferStatus.OFFERED)
    assert {o.patient for o in live} == set(patients[3:])
    assert WaitlistOffer.objects.filter(status=WaitlistOfferStatus.EXPIRED).count() == 3
    winner = waitlist_offer_reply(patient=patients[4], accept=True, channel="telegram")
    assert winner.status == WaitlistOfferStatus.ACCEPTED
    assert Appointment.objects.get(starts_at=slot.starts_at, status="booked").patient == patients[4]
