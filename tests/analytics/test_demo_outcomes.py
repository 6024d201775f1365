"""The demo's year around its visits: booking requests, freed slots with the waiting list's
outcomes and the messages sent, seeded once, consistent with the visits they belong to, and
giving the dashboard's tiles figures on its default period (the last 30 days).

A small network stands in for the demo's (seeding the whole demo takes a minute; the whole
network's second run is checked in `tests/portal/test_seed_demo.py`)."""

from __future__ import annotations

import datetime
import io
import random

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from analytics.selectors.dashboard import figures, kpi_values
from analytics.selectors.scope import Scope
from notifications.models import MessageDailyCount, OutboxMessage
from portal.choices import Role
from portal.demo import DemoContext
from scheduling import demo_messages, demo_outcomes
from scheduling.choices import (
    AppointmentChannel,
    AppointmentStatus,
    BookingMode,
    BookingRequestStatus,
    FreedSlotStatus,
    WaitlistOfferStatus,
)
from scheduling.models import (
    Appointment,
    BookingPolicy,
    BookingRequest,
    FreedSlot,
    Occupancy,
    WaitlistEntry,
    WaitlistOffer,
)
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db

MODELS = (
    Appointment,
    Occupancy,
    BookingRequest,
    FreedSlot,
    WaitlistEntry,
    WaitlistOffer,
    OutboxMessage,
    MessageDailyCount,
)
S = AppointmentStatus


@pytest.fixture
def ctx(db) -> DemoContext:
    """A request-mode clinic with a phone visit on each of the past 365 days (every fourth
    cancelled 30 hours ahead) and a few visits ahead."""
    clinic = ClinicFactory(slug="request-clinic", timezone="Europe/Moscow")
    BookingPolicy.objects.update_or_create(clinic=clinic, defaults={"mode": BookingMode.REQUEST})
    service = ServiceFactory()
    doctor = DoctorFactory(services=[service], clinics=[clinic])
    patients = PatientFactory.create_batch(6)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    visits = []
    for back in range(-5, 366):
        starts = now - datetime.timedelta(days=back)
        cancelled = back % 4 == 0
        visits.append(
            Appointment(
                patient=patients[back % len(patients)],
                doctor=doctor,
                clinic=clinic,
                service=service,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(minutes=30),
                status=S.CANCELLED if cancelled else S.COMPLETED if back > 0 else S.BOOKED,
                cancelled_at=starts - datetime.timedelta(hours=30) if cancelled else None,
                channel=AppointmentChannel.PHONE,
                price=service.price,
                created_at=starts - datetime.timedelta(days=3),
                updated_at=starts - datetime.timedelta(days=3),
            )
        )
    Appointment.objects.bulk_create(visits)
    return DemoContext(
        clinics={clinic.slug: clinic},
        patients=patients,
        users={"registrar": make_staff(Role.REGISTRAR, clinic)},
        rng=random.Random(17),
        today=timezone.localdate(),
        stdout=io.StringIO(),
        extra={"clinic": clinic, "doctor": doctor},
    )


def seed(ctx: DemoContext) -> int:
    clinic, doctor = ctx.extra["clinic"], ctx.extra["doctor"]
    return (
        demo_outcomes.seed_requests(ctx, clinic)
        + demo_outcomes.seed_waitlist(ctx, {doctor.pk: "therapist"})
        + demo_messages.seed_messages(ctx)
    )


def test_the_year_around_the_visits_is_seeded_once_and_the_tiles_read_it(ctx):
    assert seed(ctx) > 0
    counts = {model: model.objects.count() for model in MODELS}
    now = timezone.now()

    # Requests: each confirmed one is the visit it booked, answered mostly within the SLA.
    confirmed = BookingRequest.objects.filter(status=BookingRequestStatus.CONFIRMED)
    assert confirmed.count() > 100
    for request in confirmed.select_related("appointment"):
        assert request.appointment.channel == AppointmentChannel.REQUEST
        assert request.appointment.patient_id == request.patient_id
        assert request.confirmed_at == request.appointment.created_at
        assert request.time_to_confirm == request.confirmed_at - request.created_at
        assert request.escalated == (request.confirmed_at > request.sla_due_at)
    recent = confirmed.filter(created_at__gte=now - datetime.timedelta(days=90))
    late = recent.filter(escalated=True).count()
    assert 0 < late < recent.count() * 0.3
    assert BookingRequest.objects.filter(status=BookingRequestStatus.DECLINED).exists()

    # Freed slots: from past cancellations, filled by a visit at the same time and doctor.
    slots = FreedSlot.objects.select_related("source", "filled_by")
    assert slots.filter(status=FreedSlotStatus.FILLED).count() > 20
    assert slots.filter(status=FreedSlotStatus.UNFILLED).exists()
    assert slots.filter(manual=True).exists()
    for slot in slots:
        assert slot.source.status == AppointmentStatus.CANCELLED
        assert slot.freed_at == slot.source.cancelled_at < slot.closed_at <= slot.starts_at
        if slot.status == FreedSlotStatus.FILLED:
            visit = slot.filled_by
            assert (visit.doctor_id, visit.starts_at) == (slot.doctor_id, slot.starts_at)
            assert visit.created_at == slot.closed_at
            assert Occupancy.objects.filter(appointment=visit).exists()
            accepted = slot.offers.filter(status=WaitlistOfferStatus.ACCEPTED)
            assert accepted.count() == (0 if slot.manual else 1)
        else:
            assert slot.filled_by is None
            assert not slot.offers.filter(status=WaitlistOfferStatus.ACCEPTED).exists()

    # Messages: rows within the retention period, the daily counts before it.
    kept_from = now - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    history = OutboxMessage.objects.filter(provider_message_id__startswith=demo_messages.PREFIX)
    assert history.count() > 100
    assert not history.filter(created_at__lt=kept_from - datetime.timedelta(minutes=1)).exists()
    assert MessageDailyCount.objects.filter(date__lt=kept_from.date()).exists()
    assert not MessageDailyCount.objects.filter(date__gt=kept_from.date()).exists()
    # The address is stored encrypted, as the model writes it.
    phone = ctx.patients[0].phone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM notifications_outboxmessage WHERE to_address LIKE %s",
            [f"%{phone[-7:]}%"],
        )
        assert cursor.fetchone()[0] == 0

    # The dashboard's default period (the last 30 days) has a figure on every such tile.
    today = timezone.localdate()
    scope = Scope(clinic_ids=None, first=today - datetime.timedelta(days=29), last=today)
    values = kpi_values(figures(scope=scope))
    assert 1 <= values["request_confirmation"] <= 30
    assert values["waitlist_fill"] is not None
    assert values["waitlist_time_to_fill"] is not None
    assert values["waitlist_manual"] is not None
    assert 0.85 <= values["delivery_rate"] <= 1

    # A second run adds nothing.
    assert seed(ctx) == 0
    assert {model: model.objects.count() for model in MODELS} == counts
