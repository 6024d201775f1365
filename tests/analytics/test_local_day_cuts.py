"""Requests, freed slots and messages keep only a UTC instant; the dashboard counts them on
the clinic's local days. Each case puts one row just after Berlin's local midnight opening
the period (still the day before in UTC) and one just after the midnight closing it (still
the last day in UTC): cut at UTC midnights, the figure would come out different."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.dashboard import figures, kpi_values
from analytics.selectors.scope import Scope
from notifications.choices import Channel, DeliveryStatus, MessageStatus
from notifications.models import OutboxMessage
from scheduling.choices import FreedSlotStatus
from scheduling.models import BookingRequest, FreedSlot

from .conftest import BERLIN, FIRST, LAST, LATER, at

pytestmark = pytest.mark.django_db

JUST_INSIDE = at(BERLIN, 28, 0, 30)  # 27 March, 23:30 UTC
JUST_AFTER = at(BERLIN, 31, 0, 30)  # 30 March, 22:30 UTC


def kpis(net):
    scope = Scope(clinic_ids=frozenset({net.berlin.pk}), first=FIRST, last=LAST)
    return kpi_values(figures(scope=scope, now=LATER))


def test_requests_are_cut_at_the_clinics_midnights(net):
    for created, minutes in ((JUST_INSIDE, 10), (at(BERLIN, 29, 9), 20), (JUST_AFTER, 500)):
        BookingRequest.objects.create(
            patient=net.p1,
            clinic=net.berlin,
            specialty=net.service.specialty,
            status="confirmed",
            sla_due_at=created + datetime.timedelta(hours=1),
            created_at=created,
            confirmed_at=created + datetime.timedelta(minutes=minutes),
        )
    # 10 and 20 minutes (UTC days would have taken 20 and 500).
    assert kpis(net)["request_confirmation"] == 15


def test_freed_slots_are_cut_at_the_clinics_midnights(net):
    for freed, status in ((JUST_INSIDE, FreedSlotStatus.FILLED), (JUST_AFTER, "unfilled")):
        FreedSlot.objects.create(
            source=net.visit(starts=freed, created=freed, status="cancelled"),
            clinic=net.berlin,
            doctor=net.doctor,
            service=net.service,
            starts_at=freed + datetime.timedelta(hours=9),
            status=status,
            freed_at=freed,
            closed_at=freed + datetime.timedelta(minutes=30),
        )
    assert kpis(net)["waitlist_fill"] == 1


def test_messages_are_cut_at_the_clinics_midnights(net):
    for created, delivery in (
        (JUST_INSIDE, DeliveryStatus.DELIVERED),
        (JUST_AFTER, DeliveryStatus.FAILED),
    ):
        message = OutboxMessage.objects.create(
            event="appointment_booked",
            channel=Channel.SMS,
            clinic=net.berlin,
            status=MessageStatus.SENT,
            delivery_status=delivery,
            due_at=created,
        )
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=created)
    assert kpis(net)["delivery_rate"] == 1
