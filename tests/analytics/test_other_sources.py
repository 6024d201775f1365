"""KPIs read from their own sources: booking requests, waiting-list slots, messages."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.dashboard import figures, kpi_values
from analytics.selectors.scope import Scope
from analytics.selectors.sources import comparison_kpis
from notifications.choices import Channel, DeliveryStatus, LogState, MessageStatus
from notifications.models import MessageDailyCount, OutboxMessage
from scheduling.choices import FreedSlotOrigin, FreedSlotStatus
from scheduling.models import BookingRequest, FreedSlot

from .conftest import BERLIN, FIRST, LAST, LATER, at

pytestmark = pytest.mark.django_db


def scope(net) -> Scope:
    return Scope(clinic_ids=frozenset({net.berlin.pk}), first=FIRST, last=LAST)


def test_request_to_confirmation_is_the_median_wait(net):
    for minutes in (10, 30, 300):
        created = at(BERLIN, 28, 9)
        BookingRequest.objects.create(
            patient=net.p1,
            clinic=net.berlin,
            specialty=net.service.specialty,
            status="confirmed",
            sla_due_at=created + datetime.timedelta(hours=1),
            created_at=created,
            confirmed_at=created + datetime.timedelta(minutes=minutes),
        )
    assert kpi_values(figures(scope=scope(net), now=LATER))["request_confirmation"] == 30


def test_waitlist_fill_counts_slots_booked_within_two_hours(net):
    freed = at(BERLIN, 29, 8)
    for status, closed_after in (
        (FreedSlotStatus.FILLED, 30),
        (FreedSlotStatus.FILLED, 180),
        (FreedSlotStatus.UNFILLED, 60),
        (FreedSlotStatus.FILLED, 90),
    ):
        FreedSlot.objects.create(
            source=net.visit(starts=freed, created=freed, status="cancelled"),
            clinic=net.berlin,
            doctor=net.doctor,
            service=net.service,
            starts_at=freed + datetime.timedelta(hours=5),
            status=status,
            freed_at=freed,
            closed_at=freed + datetime.timedelta(minutes=closed_after),
        )
    assert kpi_values(figures(scope=scope(net), now=LATER))["waitlist_fill"] == 0.5


def test_waitlist_time_to_fill_and_share_needing_staff(net):
    from scheduling.models import WaitlistEntry, WaitlistOffer

    freed = at(BERLIN, 29, 8)
    slots = []
    for status, closed_after, manual in (
        (FreedSlotStatus.FILLED, 30, False),
        (FreedSlotStatus.FILLED, 90, True),
        (FreedSlotStatus.FILLED, 200, False),
        (FreedSlotStatus.FILLED, 20, False),
        (FreedSlotStatus.UNFILLED, 60, False),
    ):
        slots.append(
            FreedSlot.objects.create(
                source=net.visit(starts=freed, created=freed, status="cancelled"),
                clinic=net.berlin,
                doctor=net.doctor,
                service=net.service,
                starts_at=freed + datetime.timedelta(hours=5),
                status=status,
                freed_at=freed,
                closed_at=freed + datetime.timedelta(minutes=closed_after),
                manual=manual,
            )
        )
    # The third was won by a patient staff had boosted (the boost since taken back: what
    # counts is the boost at the fill); the fourth's winner was boosted only afterwards.
    FreedSlot.objects.filter(pk=slots[2].pk).update(won_with_boost=True)
    for slot, boost in ((slots[2], 0), (slots[3], 15)):
        entry = WaitlistEntry.objects.create(
            patient=net.p1,
            service=net.service,
            date_from=FIRST,
            date_to=LAST,
            created_at=freed,
            boost=boost,
        )
        WaitlistOffer.objects.create(
            token=f"t{slot.pk}",
            slot=slot,
            entry=entry,
            patient=net.p1,
            batch=1,
            score=boost,
            status="accepted",
            sent_at=freed,
            expires_at=freed + datetime.timedelta(minutes=7),
        )
    kpis = kpi_values(figures(scope=scope(net), now=LATER))
    assert kpis["waitlist_time_to_fill"] == 60  # median of 20, 30, 90, 200
    assert kpis["waitlist_manual"] == 0.5


def test_times_a_schedule_change_opened_are_reported_apart_from_cancellations(net):
    freed = at(BERLIN, 29, 8)
    FreedSlot.objects.create(
        source=net.visit(starts=freed, created=freed, status="cancelled"),
        clinic=net.berlin,
        doctor=net.doctor,
        service=net.service,
        starts_at=freed + datetime.timedelta(hours=5),
        status=FreedSlotStatus.UNFILLED,
        freed_at=freed,
        closed_at=freed + datetime.timedelta(minutes=60),
    )
    for hours, status, closed_after in (
        (6, FreedSlotStatus.FILLED, 30),
        (7, FreedSlotStatus.FILLED, 300),
        (8, FreedSlotStatus.OFFERING, None),
    ):
        FreedSlot.objects.create(
            origin=FreedSlotOrigin.SCHEDULE,
            clinic=net.berlin,
            doctor=net.doctor,
            service=net.service,
            starts_at=freed + datetime.timedelta(hours=hours),
            status=status,
            freed_at=freed,
            closed_at=None
            if closed_after is None
            else freed + datetime.timedelta(minutes=closed_after),
        )
    kpis = kpi_values(figures(scope=scope(net), now=LATER))
    assert kpis["waitlist_fill"] == 0  # the one cancellation was not filled
    assert kpis["waitlist_time_to_fill"] is None
    assert kpis["waitlist_manual"] is None
    # 1 of 3 opened times within 2 hours (the one still offered is past its 2 hours).
    assert kpis["waitlist_opened_fill"] == pytest.approx(1 / 3)


def test_the_waitlist_tiles_compare_with_the_previous_period(net):
    freed = at(BERLIN, 29, 8)
    FreedSlot.objects.create(
        source=net.visit(starts=freed, created=freed, status="cancelled"),
        clinic=net.berlin,
        doctor=net.doctor,
        service=net.service,
        starts_at=freed + datetime.timedelta(hours=5),
        status=FreedSlotStatus.FILLED,
        freed_at=freed,
        closed_at=freed + datetime.timedelta(minutes=30),
    )
    current = scope(net)
    assert comparison_kpis(scope=current, now=LATER)["waitlist_fill"] == 1
    assert comparison_kpis(scope=current.previous(), now=LATER)["waitlist_fill"] is None


def test_delivery_rate_adds_the_purged_messages_daily_counts(net):
    for delivery in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SENT):
        message = OutboxMessage.objects.create(
            event="appointment_booked",
            channel=Channel.SMS,
            clinic=net.berlin,
            status=MessageStatus.SENT,
            delivery_status=delivery,
            due_at=at(BERLIN, 29, 9),
        )
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=at(BERLIN, 29, 9))
    MessageDailyCount.objects.create(
        date=datetime.date(2026, 3, 28),
        clinic=net.berlin,
        channel=Channel.SMS,
        event="appointment_booked",
        status=LogState.DELIVERED,
        count=6,
    )
    # 7 delivered of 8 with a final report (the one only passed to the operator waits).
    assert kpi_values(figures(scope=scope(net), now=LATER))["delivery_rate"] == 7 / 8


def test_the_comparisons_carry_the_request_wait_and_the_delivery_rate(net):
    created = at(BERLIN, 28, 9)
    BookingRequest.objects.create(
        patient=net.p1,
        clinic=net.berlin,
        specialty=net.service.specialty,
        status="confirmed",
        sla_due_at=created + datetime.timedelta(hours=1),
        created_at=created,
        confirmed_at=created + datetime.timedelta(minutes=20),
    )
    for delivery in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        message = OutboxMessage.objects.create(
            event="appointment_booked",
            channel=Channel.SMS,
            clinic=net.berlin,
            status=MessageStatus.SENT,
            delivery_status=delivery,
            due_at=at(BERLIN, 29, 9),
        )
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=at(BERLIN, 29, 9))
    current = comparison_kpis(scope=scope(net), now=LATER)
    assert current["request_confirmation"] == 20
    assert current["delivery_rate"] == 1 / 2
    earlier = comparison_kpis(scope=scope(net).previous(), now=LATER)
    assert earlier["request_confirmation"] is None
    assert earlier["delivery_rate"] is None
