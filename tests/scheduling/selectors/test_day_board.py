"""The registrar's day board: doctors × local hours, appointment states, free slots, a fixed
number of queries whatever the number of doctors, and a change token that moves with the day."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.choices import ExceptionKind
from scheduling.models import ScheduleException, Substitution
from scheduling.selectors.availability import free_slots
from scheduling.selectors.day_board import day_board, day_board_version
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_confirm,
)
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ScheduleRuleFactory,
    ServiceFactory,
    make_weekly_schedule,
)

pytestmark = pytest.mark.django_db
MON = datetime.date(2027, 3, 1)


def book_at(doctor, service, clinic, actor, *, hour, minute=0, day=MON):
    start = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic.tz)
    return appointment_book(
        patient=PatientFactory(last_name="Петрова", first_name="Ольга", middle_name="Ивановна"),
        doctor=doctor,
        service=service,
        start=start,
        channel="phone",
        actor=actor,
    )


def items(row):
    return [item for cell in row.cells for item in cell]


def test_rows_are_doctors_and_columns_the_clinics_local_hours(clock, clinic_a, doctor, service):
    board = day_board(clinic=clinic_a, day=MON)
    assert board.zone == "Asia/Irkutsk" and board.utc_offset == "UTC+8"
    # The doctor works 09:00–13:00 Irkutsk time: four hour columns, 09 to 12.
    assert board.hours == [9, 10, 11, 12]
    (row,) = board.rows
    assert row.name.startswith(doctor.last_name)
    assert row.hours == [(datetime.time(9), datetime.time(13))]
    # Free slots come from free_slots (phone channel), placed in their local hour.
    expected = free_slots(
        service=service, clinic=clinic_a, channel="phone", start_date=MON, end_date=MON
    )
    assert row.free_count == len(expected) == 8
    assert [slot.start.strftime("%H:%M") for slot in row.cells[0]] == ["09:00", "09:30"]
    assert all(slot.start.tzinfo is not None for slot in items(row))


def test_appointments_show_their_state_and_cancelled_ones_only_on_request(
    clock, clinic_a, doctor, service, registrar_a
):
    booked = book_at(doctor, service, clinic_a, registrar_a, hour=9)
    confirmed = book_at(doctor, service, clinic_a, registrar_a, hour=10)
    appointment_confirm(appointment=confirmed, actor=registrar_a)
    cancelled = book_at(doctor, service, clinic_a, registrar_a, hour=11)
    appointment_cancel(appointment=cancelled, actor=registrar_a, reason="ill")

    board = day_board(clinic=clinic_a, day=MON)
    (row,) = board.rows
    shown = {item.public_id: item for item in items(row) if hasattr(item, "public_id")}
    assert set(shown) == {booked.public_id, confirmed.public_id}
    assert shown[booked.public_id].status == "booked"
    assert shown[confirmed.public_id].status == "confirmed"
    assert shown[booked.public_id].patient_name == "Петрова"
    assert shown[booked.public_id].start.strftime("%H:%M") == "09:00"
    assert board.status_counts == {"booked": 1, "confirmed": 1, "cancelled": 1}
    # The cancelled 11:00 is free again; the booked 9:00 is not.
    free_times = [i.start.strftime("%H:%M") for i in items(row) if hasattr(i, "slot_id")]
    assert "11:00" in free_times and "09:00" not in free_times

    with_released = day_board(clinic=clinic_a, day=MON, show_released=True)
    ids = {i.public_id for i in items(with_released.rows[0]) if hasattr(i, "public_id")}
    assert cancelled.public_id in ids


def test_a_doctor_filter_narrows_the_rows_and_picks_that_doctors_service(
    clock, clinic_a, doctor, service
):
    other_service = ServiceFactory(name="УЗИ", duration_minutes=20)
    other = DoctorFactory(services=[other_service], clinics=[clinic_a])
    make_weekly_schedule(other, clinic_a, start=datetime.time(14), end=datetime.time(16))
    board = day_board(clinic=clinic_a, day=MON, doctor_public_id=other.public_id)
    assert [row.public_id for row in board.rows] == [other.public_id]
    assert board.service == other_service
    assert board.hours == [14, 15]
    assert board.rows[0].free_count == 4  # a 30-minute step
    # Everyone of the clinic stays in the filter's choices.
    assert {public_id for public_id, _name in board.doctors} == {doctor.public_id, other.public_id}


def test_the_board_opens_on_a_service_someone_works_that_day(clock, clinic_a, doctor, service):
    # Two doctors offer the ultrasound but work only on Wednesdays; Monday's one doctor
    # offers the default service: Monday opens on it, Wednesday on the ultrasound.
    ultrasound = ServiceFactory(name="УЗИ", duration_minutes=20)
    for _ in range(2):
        sonographer = DoctorFactory(services=[ultrasound], clinics=[clinic_a])
        ScheduleRuleFactory(doctor=sonographer, clinic=clinic_a, weekday=2)
    assert day_board(clinic=clinic_a, day=MON).service == service
    wednesday = day_board(clinic=clinic_a, day=MON + datetime.timedelta(days=2))
    assert wednesday.service == ultrasound
    assert sum(row.free_count for row in wednesday.rows) > 0


def test_a_doctor_off_that_day_is_listed_apart(clock, clinic_a, doctor, service):
    idle = DoctorFactory(services=[service], clinics=[clinic_a])
    ScheduleRuleFactory(doctor=idle, clinic=clinic_a, weekday=2)  # Wednesdays only
    board = day_board(clinic=clinic_a, day=MON)
    assert [row.public_id for row in board.rows] == [doctor.public_id]
    assert [row.public_id for row in board.off_today] == [idle.public_id]


def test_times_are_the_clinics_own_in_another_zone(clock, clinic_b, service, registrar_b):
    doc = DoctorFactory(services=[service], clinics=[clinic_b])
    make_weekly_schedule(doc, clinic_b, start=datetime.time(10), end=datetime.time(12))
    book_at(doc, service, clinic_b, registrar_b, hour=10, minute=30)
    board = day_board(clinic=clinic_b, day=MON)
    assert board.zone == "Europe/Moscow" and board.utc_offset == "UTC+3"
    assert board.hours == [10, 11]
    appointment = next(i for i in items(board.rows[0]) if hasattr(i, "public_id"))
    assert appointment.start.strftime("%H:%M") == "10:30"
    assert appointment.start.utcoffset() == datetime.timedelta(hours=3)


def test_free_times_are_those_free_slots_offers_with_stand_ins_and_exceptions(
    clock, clinic_a, doctor, service, registrar_a
):
    # The board reads the schedule once for every doctor and narrows it to those offering
    # the service: the same free times as the engine's own read, stand-ins and exceptions
    # included.
    substitute = DoctorFactory(services=[service], clinics=[clinic_a])
    Substitution.objects.create(
        clinic=clinic_a, date=MON, absent_doctor=doctor, substitute=substitute
    )
    worker = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(worker, clinic_a, start=datetime.time(10), end=datetime.time(14))
    ScheduleException.objects.create(
        doctor=worker,
        clinic=clinic_a,
        kind=ExceptionKind.EXTRA_HOURS,
        date_from=MON,
        date_to=MON,
        start_time=datetime.time(17),
        end_time=datetime.time(18),
    )
    ScheduleException.objects.create(
        doctor=worker,
        clinic=None,
        kind=ExceptionKind.DAY_OFF,
        date_from=MON,
        date_to=MON,
        start_time=datetime.time(11),
        end_time=datetime.time(12),
    )
    other_service = ServiceFactory(name="УЗИ", duration_minutes=20)
    elsewhere = DoctorFactory(services=[other_service], clinics=[clinic_a])
    make_weekly_schedule(elsewhere, clinic_a, start=datetime.time(8), end=datetime.time(9))
    book_at(worker, service, clinic_a, registrar_a, hour=10)

    board = day_board(clinic=clinic_a, day=MON, service_public_id=service.public_id)
    shown = sorted(
        (row.doctor_id, item.slot_id)
        for row in board.rows
        for item in items(row)
        if hasattr(item, "slot_id")
    )
    expected = free_slots(
        service=service, clinic=clinic_a, channel="phone", start_date=MON, end_date=MON
    )
    assert shown == sorted((slot.doctor_id, slot.slot_id) for slot in expected)
    assert {doctor_id for doctor_id, _slot in shown} == {substitute.pk, worker.pk}
    rows = {row.doctor_id: row for row in board.rows}
    assert rows[worker.pk].hours == [
        (datetime.time(10), datetime.time(11)),
        (datetime.time(12), datetime.time(14)),
        (datetime.time(17), datetime.time(18)),
    ]
    assert rows[elsewhere.pk].hours == [(datetime.time(8), datetime.time(9))]
    assert not rows[elsewhere.pk].offers_service and rows[elsewhere.pk].free_count == 0


def _doctors(clinic, count, service):
    made = []
    for _ in range(count):
        doc = DoctorFactory(services=[service], clinics=[clinic])
        make_weekly_schedule(doc, clinic)
        made.append(doc)
    return made


def _queries(clinic):
    with CaptureQueriesContext(connection) as ctx:
        board = day_board(clinic=clinic, day=MON)
    return len(ctx.captured_queries), board


def test_the_board_takes_the_same_number_of_queries_for_few_and_many_doctors(
    clock, clinic_a, service, registrar_a, django_assert_num_queries
):
    second = ServiceFactory(name="Кардиолог", duration_minutes=30)
    few = _doctors(clinic_a, 2, service)
    book_at(few[0], service, clinic_a, registrar_a, hour=9)
    few_count, few_board = _queries(clinic_a)
    assert len(few_board.rows) == 2

    many = _doctors(clinic_a, 10, service) + _doctors(clinic_a, 10, second)
    for index, doc in enumerate(many):
        book_at(doc, second if index >= 10 else service, clinic_a, registrar_a, hour=10)
    with django_assert_num_queries(few_count):
        board = day_board(clinic=clinic_a, day=MON)
    assert len(board.rows) == 22
    assert sum(row.booked_count for row in board.rows) == 21


def test_the_change_token_moves_with_bookings_and_the_minute_and_costs_one_query(
    clock, clinic_a, doctor, service, registrar_a, django_assert_num_queries
):
    with django_assert_num_queries(1):
        before = day_board_version(clinic=clinic_a, day=MON, now=clock.now)
    assert day_board_version(clinic=clinic_a, day=MON, now=clock.now) == before
    appointment = book_at(doctor, service, clinic_a, registrar_a, hour=9)
    after_booking = day_board_version(clinic=clinic_a, day=MON, now=clock.now)
    assert after_booking != before
    clock.advance(seconds=5)
    appointment_confirm(appointment=appointment, actor=registrar_a)
    confirmed = day_board_version(clinic=clinic_a, day=MON, now=clock.now)
    assert confirmed != after_booking
    assert (
        day_board_version(clinic=clinic_a, day=MON, now=clock.now + datetime.timedelta(minutes=1))
        != confirmed
    )
    # Another day's board does not move with this one.
    tuesday = MON + datetime.timedelta(days=1)
    assert day_board_version(clinic=clinic_a, day=tuesday, now=clock.now) == day_board_version(
        clinic=clinic_a, day=tuesday, now=clock.now
    )


def test_a_schedule_nobody_works_needs_no_equipment_query(django_assert_num_queries, service):
    from scheduling.selectors.availability.loading import Schedule, with_equipment_of

    empty = Schedule()
    with django_assert_num_queries(0):
        assert with_equipment_of(empty, service.pk) is empty
