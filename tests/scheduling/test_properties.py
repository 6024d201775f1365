"""Property tests: random schedules and random sequences of bookings, reschedules,
cancellations and rollbacks never produce an overlap, and every offered slot can be booked."""

from __future__ import annotations

import contextlib
import datetime
from unittest import mock

from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from portal.choices import Role
from scheduling.choices import OCCUPYING_STATUSES, ResourceKind
from scheduling.errors import BookingError, InvalidTransition, PolicyViolation, RollbackConflict
from scheduling.models import Appointment, BookingPolicy, Occupancy
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_rollback,
)
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientFactory,
    RoomFactory,
    ScheduleRuleFactory,
    ServiceFactory,
    make_staff,
)

UTC = datetime.UTC
NOW = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
FIRST_DAY = datetime.date(2027, 3, 1)
DAYS = 3
ZONES = ["Asia/Irkutsk", "Europe/Moscow", "Europe/Berlin", "America/New_York"]

rule_strategy = st.fixed_dictionaries(
    {
        "start": st.integers(min_value=7, max_value=12),
        "hours": st.integers(min_value=1, max_value=6),
        "step": st.sampled_from([10, 15, 20, 30]),
        "buffer": st.sampled_from([0, 5, 10]),
        "break_at": st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    }
)
operation = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 2), st.integers(0, 10_000)),
    st.tuples(st.just("reschedule"), st.integers(0, 30), st.integers(0, 10_000)),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("rollback"), st.integers(0, 30), st.just(0)),
)


def assert_no_overlap() -> None:
    rows = sorted(
        Occupancy.objects.values_list("resource_kind", "resource_id", "starts_at", "ends_at")
    )
    for (k1, r1, _s1, e1), (k2, r2, s2, _e2) in zip(rows, rows[1:], strict=False):
        if (k1, r1) == (k2, r2):
            assert e1 <= s2, f"overlap on {k1}:{r1}"
    # The appointments themselves agree with the occupancy table.
    active = Appointment.objects.filter(status__in=OCCUPYING_STATUSES)
    by_doctor: dict[int, list[tuple]] = {}
    for a in active:
        span = (a.starts_at, a.ends_at + datetime.timedelta(minutes=a.buffer_minutes))
        by_doctor.setdefault(a.doctor_id, []).append(span)
        assert Occupancy.objects.filter(
            appointment=a, resource_kind=ResourceKind.DOCTOR, starts_at=a.starts_at
        ).exists()
    for spans in by_doctor.values():
        spans.sort()
        for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
            assert e1 <= s2
    assert (
        not Occupancy.objects.exclude(appointment__isnull=True)
        .exclude(appointment__status__in=OCCUPYING_STATUSES)
        .exists()
    )


class BookingProperties(TestCase):
    def setUp(self):
        patcher = mock.patch.object(timezone, "now", lambda: NOW)
        patcher.start()
        self.addCleanup(patcher.stop)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        zone=st.sampled_from(ZONES),
        duration=st.sampled_from([15, 20, 30, 45, 60]),
        needs_room=st.booleans(),
        rules=st.lists(rule_strategy, min_size=3, max_size=3),
        operations=st.lists(operation, min_size=1, max_size=25),
    )
    def test_no_overlap_ever_and_every_offered_slot_books(
        self, zone, duration, needs_room, rules, operations
    ):
        clinic = ClinicFactory(timezone=zone)
        BookingPolicy.objects.create(clinic=clinic, max_active_per_patient=100, horizon_days=30)
        service = ServiceFactory(
            duration_minutes=duration, room_kind="procedure" if needs_room else ""
        )
        if needs_room:
            RoomFactory(clinic=clinic, kind="procedure")  # one room shared by every doctor
        doctors = []
        for rule in rules:
            doc = DoctorFactory(services=[service])
            breaks = []
            if rule["break_at"] is not None and rule["break_at"] < rule["hours"]:
                at = rule["start"] + rule["break_at"]
                breaks = [[f"{at:02d}:00", f"{at:02d}:30"]]
            for weekday in range(7):
                ScheduleRuleFactory(
                    doctor=doc,
                    clinic=clinic,
                    weekday=weekday,
                    start_time=datetime.time(rule["start"]),
                    end_time=datetime.time(rule["start"] + rule["hours"]),
                    slot_step_minutes=rule["step"],
                    buffer_minutes=rule["buffer"],
                    breaks=breaks,
                )
            doctors.append(doc)
        registrar = make_staff(Role.REGISTRAR, clinic)
        patient = PatientFactory()
        last_day = FIRST_DAY + datetime.timedelta(days=DAYS - 1)
        booked: list[Appointment] = []

        def offered(doctor):
            return free_slots(
                service=service,
                doctor=doctor,
                start_date=FIRST_DAY,
                end_date=last_day,
                channel="phone",
            )

        for op, target, pick in operations:
            if op == "book":
                slots = offered(doctors[target])
                if not slots:
                    continue
                slot = slots[pick % len(slots)]
                # Every offered slot books: no exception may escape here.
                booked.append(
                    appointment_book(
                        patient=patient,
                        doctor=doctors[target],
                        service=service,
                        start=slot.start,
                        channel="phone",
                        actor=registrar,
                    )
                )
            elif booked:
                appointment = booked[target % len(booked)]
                appointment.refresh_from_db()
                if op == "reschedule":
                    if appointment.status not in ("booked", "confirmed"):
                        continue
                    slots = [
                        s
                        for s in offered(appointment.doctor)
                        if s.start_utc != appointment.starts_at
                    ]
                    if not slots:
                        continue
                    slot = slots[pick % len(slots)]
                    appointment_reschedule(
                        appointment=appointment, start=slot.start, actor=registrar
                    )
                elif op == "cancel":
                    if appointment.status not in ("booked", "confirmed"):
                        continue
                    appointment_cancel(appointment=appointment, actor=registrar)
                else:
                    # A rollback may rightly refuse (too late, nothing to undo, time taken).
                    with contextlib.suppress(RollbackConflict, InvalidTransition, PolicyViolation):
                        appointment_rollback(appointment=appointment, actor=registrar)
            assert_no_overlap()
        event(f"appointments booked: {min(len(booked), 5)}+")

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        zone=st.sampled_from(ZONES),
        step=st.sampled_from([10, 15, 30]),
        buffer=st.sampled_from([0, 5]),
    )
    def test_booking_every_offered_slot_in_turn_succeeds_or_is_no_longer_offered(
        self, zone, step, buffer
    ):
        clinic = ClinicFactory(timezone=zone)
        service = ServiceFactory(duration_minutes=30)
        doc = DoctorFactory(services=[service])
        ScheduleRuleFactory(
            doctor=doc,
            clinic=clinic,
            weekday=FIRST_DAY.weekday() + 1,
            start_time=datetime.time(9),
            end_time=datetime.time(12),
            slot_step_minutes=step,
            buffer_minutes=buffer,
        )
        registrar = make_staff(Role.REGISTRAR, clinic)
        patient = PatientFactory()
        day = FIRST_DAY + datetime.timedelta(days=1)
        offered = free_slots(service=service, doctor=doc, start_date=day, end_date=day)
        assert offered
        taken = 0
        for slot in offered:
            still = {
                s.start_utc
                for s in free_slots(service=service, doctor=doc, start_date=day, end_date=day)
            }
            try:
                appointment_book(
                    patient=patient,
                    doctor=doc,
                    service=service,
                    start=slot.start,
                    channel="phone",
                    actor=registrar,
                )
                taken += 1
                assert slot.start_utc in still
            except BookingError:
                # Refused only because an earlier booking of this loop took the time.
                assert slot.start_utc not in still
            assert_no_overlap()
        assert taken >= 1
        assert free_slots(service=service, doctor=doc, start_date=day, end_date=day) == []
