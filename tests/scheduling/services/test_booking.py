import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from notifications.models import OutboxMessage
from portal.models import AuditEvent
from portal.permissions import acts_as_patient
from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    OutsideBookingWindow,
    PolicyViolation,
    QuotaExceeded,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    BookingPolicy,
    Occupancy,
    Quota,
    QuotaCounter,
)
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_mark_no_show,
    appointment_reschedule,
)
from tests.factories import (
    DoctorFactory,
    EquipmentFactory,
    EquipmentTypeFactory,
    PatientFactory,
    RoomFactory,
    ServiceFactory,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

# Statements of one booking for oneself (SAVEPOINT and RELEASE in a test's transaction),
# including one look at the patient's message settings for both messages (SMS and e-mail) and one
# for a linked Telegram chat.
BOOKING_QUERIES = 22

S = AppointmentStatus
ONLINE = AppointmentChannel.ONLINE


def book(patient, doctor, service, start, actor=None, **kw):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel=kw.pop("channel", ONLINE),
        actor=actor if actor is not None else patient.user,
        **kw,
    )


@pytest.fixture
def tue9(clinic_a):
    return local(clinic_a, 2027, 3, 2, 9)


def test_it_books_a_free_slot_with_its_trail(clock, clinic_a, doctor, service, patient, tue9):
    appointment = book(patient, doctor, service, tue9)
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED
    assert appointment.starts_at == tue9
    assert appointment.ends_at == tue9 + datetime.timedelta(minutes=30)
    assert appointment.clinic == clinic_a
    assert appointment.price == service.price
    assert appointment.booked_by == patient.user
    assert Occupancy.objects.filter(appointment=appointment, resource_kind="d").count() == 1
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.kind, event.from_status, event.to_status) == ("booked", "", "booked")
    audit = AuditEvent.objects.get(object_type="scheduling.appointment")
    assert audit.action == "create"
    assert audit.object_id == str(appointment.public_id)
    assert audit.patient_ids == [str(patient.public_id)]
    channels = set(
        OutboxMessage.objects.filter(event="appointment.booked").values_list("channel", flat=True)
    )
    assert channels == {"sms", "email"}
    message = OutboxMessage.objects.get(event="appointment.booked", channel="email")
    assert message.context["appointment_id"] == str(appointment.public_id)
    assert message.context["start"] == tue9.isoformat()


def test_the_booked_slot_is_no_longer_offered(clock, doctor, service, patient, tue9):
    book(patient, doctor, service, tue9)
    slots = free_slots(service=service, doctor=doctor, start_date=tue9.date(), end_date=tue9.date())
    assert tue9 not in {s.start for s in slots}
    assert len(slots) == 7


def test_it_refuses_a_taken_slot_and_changes_nothing(
    clock, doctor, service, patient, other_patient, tue9
):
    book(patient, doctor, service, tue9)
    before = (Appointment.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(SlotTaken) as err:
        book(other_patient, doctor, service, tue9)
    assert err.value.http_status == 409
    assert (Appointment.objects.count(), OutboxMessage.objects.count()) == before


@pytest.mark.parametrize(
    ("hour", "minute", "code"),
    [(9, 15, "not_a_slot"), (14, 0, "not_a_slot"), (7, 0, "not_a_slot")],
)
def test_it_refuses_times_the_schedule_does_not_offer(
    clock, clinic_a, doctor, service, patient, hour, minute, code
):
    with pytest.raises(SlotUnavailable) as err:
        book(patient, doctor, service, local(clinic_a, 2027, 3, 2, hour, minute))
    assert err.value.code == code
    assert not Appointment.objects.exists()


def test_it_refuses_the_past_and_naive_times(clock, clinic_a, doctor, service, patient):
    with pytest.raises(OutsideBookingWindow) as err:
        book(patient, doctor, service, local(clinic_a, 2027, 2, 23, 9))
    assert err.value.code == "in_the_past"
    with pytest.raises(InvalidInput):
        book(patient, doctor, service, datetime.datetime(2027, 3, 2, 9))  # noqa: DTZ001


def test_it_refuses_too_short_notice_online_but_not_by_phone(
    clock, clinic_a, doctor, service, patient, registrar_a
):
    BookingPolicy.objects.create(clinic=clinic_a, min_notice_minutes=120)
    soon = local(clinic_a, 2027, 3, 1, 9)
    with pytest.raises(OutsideBookingWindow) as err:
        book(patient, doctor, service, soon)
    assert err.value.code == "min_notice"
    appointment = book(patient, doctor, service, soon, actor=registrar_a, channel="phone")
    assert appointment.channel == "phone"


def test_a_patient_may_book_for_their_dependant_but_not_a_stranger(
    clock, doctor, service, patient, dependant, other_patient, tue9
):
    assert book(dependant, doctor, service, tue9, actor=patient.user).patient == dependant
    with pytest.raises(NotAllowed):
        book(other_patient, doctor, service, tue9 + datetime.timedelta(hours=1), actor=patient.user)
    assert Appointment.objects.count() == 1


def test_staff_act_for_any_patient_and_are_not_patient_actors(
    clock, doctor, service, other_patient, registrar_a, patient, tue9
):
    assert not acts_as_patient(registrar_a)
    assert acts_as_patient(patient.user)
    assert not acts_as_patient(None)
    appointment = book(other_patient, doctor, service, tue9, actor=registrar_a, channel="phone")
    assert appointment.booked_by == registrar_a


def test_it_enforces_the_quota_of_the_channel(
    clock, clinic_a, doctor, service, patient, other_patient, registrar_a, tue9
):
    Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=1)
    book(patient, doctor, service, tue9)
    with pytest.raises(QuotaExceeded):
        book(other_patient, doctor, service, tue9 + datetime.timedelta(hours=1))
    # Another channel is not limited by the online quota.
    book(
        other_patient,
        doctor,
        service,
        tue9 + datetime.timedelta(hours=1),
        actor=registrar_a,
        channel="phone",
    )
    assert QuotaCounter.objects.get().used == 1


def test_a_referral_quota_can_be_named_explicitly(
    clock, clinic_a, doctor, service, patient, registrar_a, tue9
):
    Quota.objects.create(clinic=clinic_a, channel="referral", limit=0)
    with pytest.raises(QuotaExceeded):
        book(
            patient,
            doctor,
            service,
            tue9,
            actor=registrar_a,
            channel="phone",
            quota_channel="referral",
        )
    with pytest.raises(InvalidInput):
        book(
            patient,
            doctor,
            service,
            tue9,
            actor=registrar_a,
            channel="phone",
            quota_channel="carrier-pigeon",
        )
    with pytest.raises(InvalidInput):
        book(patient, doctor, service, tue9, channel="fax")


def test_it_limits_active_bookings_per_patient(clock, clinic_a, doctor, service, patient, tue9):
    BookingPolicy.objects.create(clinic=clinic_a, max_active_per_patient=2)
    first = book(patient, doctor, service, tue9)
    book(patient, doctor, service, tue9 + datetime.timedelta(hours=1))
    with pytest.raises(PolicyViolation) as err:
        book(patient, doctor, service, tue9 + datetime.timedelta(hours=2))
    assert err.value.code == "too_many_active"
    # A cancelled visit no longer counts.
    appointment_cancel(appointment=first, actor=patient.user)
    book(patient, doctor, service, tue9 + datetime.timedelta(hours=2))


def test_it_books_room_and_equipment_and_keeps_them_exclusive(
    clock, clinic_a, service, patient, other_patient
):
    scan = ServiceFactory(room_kind="ultrasound")
    probe = EquipmentTypeFactory()
    scan.equipment_types.add(probe)
    room = RoomFactory(clinic=clinic_a, kind="ultrasound")
    item = EquipmentFactory(clinic=clinic_a, type=probe)
    first, second = DoctorFactory(services=[scan]), DoctorFactory(services=[scan])
    make_weekly_schedule(first, clinic_a)
    make_weekly_schedule(second, clinic_a)
    start = local(clinic_a, 2027, 3, 2, 10)
    appointment = book(patient, first, scan, start)
    assert appointment.room == room
    assert list(appointment.equipment.all()) == [item]
    # The other doctor is free, but the only ultrasound room is not.
    with pytest.raises(SlotTaken):
        book(other_patient, second, scan, start)


def test_cancelling_frees_the_slot_and_flags_late_cancellations(
    clock, clinic_a, doctor, service, patient, other_patient, tue9
):
    Quota.objects.create(clinic=clinic_a, channel="online", limit=1)
    appointment = book(patient, doctor, service, tue9)
    cancelled = appointment_cancel(appointment=appointment, actor=patient.user, reason="Заболел")
    assert cancelled.status == S.CANCELLED
    assert cancelled.cancel_reason == "Заболел"
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.cancel_reason == "Заболел"
    assert stored.events.get(kind="cancelled").reason == "Заболел"
    assert cancelled.late_cancel is False
    assert not Occupancy.objects.exists()
    assert QuotaCounter.objects.get().used == 0
    again = book(other_patient, doctor, service, tue9)
    clock.advance(hours=20)  # now 4 hours before the visit, under the 24-hour threshold
    assert appointment_cancel(appointment=again, actor=other_patient.user).late_cancel is True
    assert OutboxMessage.objects.filter(event="appointment.cancelled").count() == 4


def test_the_longest_reason_is_kept_whole_though_its_token_is_longer(
    clock, doctor, service, patient, tue9
):
    appointment = book(patient, doctor, service, tue9)
    reason = "Ж" * 300
    appointment_cancel(appointment=appointment, actor=patient.user, reason=reason)
    stored = Appointment.objects.get(pk=appointment.pk)
    assert stored.cancel_reason == reason
    assert stored.events.get(kind="cancelled").reason == reason


def test_cancel_refuses_strangers_finished_visits_and_long_reasons(
    clock, doctor, service, patient, other_patient, registrar_a, tue9
):
    appointment = book(patient, doctor, service, tue9)
    with pytest.raises(NotAllowed):
        appointment_cancel(appointment=appointment, actor=other_patient.user)
    with pytest.raises(InvalidInput):
        appointment_cancel(appointment=appointment, actor=patient.user, reason="x" * 301)
    with pytest.raises(InvalidInput) as err:
        appointment_cancel(appointment=appointment, actor=patient.user, reason="ill\x00")
    assert err.value.code == "reason_control_characters"
    clock.advance(days=2)
    with pytest.raises(InvalidTransition):
        appointment_cancel(appointment=appointment, actor=registrar_a)
    assert Appointment.objects.get().status == S.BOOKED


def test_the_visit_lifecycle_moves_through_allowed_states_only(
    clock, clinic_a, doctor, service, patient, registrar_a, doctor_a, tue9
):
    appointment = book(patient, doctor, service, tue9)
    appointment = appointment_confirm(appointment=appointment, actor=patient.user)
    assert appointment.status == S.CONFIRMED and appointment.confirmed_at == clock.now
    with pytest.raises(InvalidTransition):
        appointment_confirm(appointment=appointment, actor=patient.user)
    with pytest.raises(InvalidTransition) as err:
        appointment_check_in(appointment=appointment, actor=registrar_a)
    assert err.value.code == "not_today"
    with pytest.raises(NotAllowed):
        appointment_check_in(appointment=appointment, actor=patient.user)
    clock.advance(days=1)
    appointment = appointment_check_in(appointment=appointment, actor=registrar_a)
    assert appointment.status == S.CHECKED_IN
    with pytest.raises(InvalidTransition):
        appointment_mark_no_show(appointment=appointment, actor=registrar_a)
    appointment = appointment_complete(appointment=appointment, actor=doctor_a)
    assert appointment.status == S.COMPLETED and appointment.completed_at == clock.now
    kinds = list(appointment.events.values_list("kind", flat=True))
    assert kinds == ["booked", "confirmed", "checked_in", "completed"]
    assert AuditEvent.objects.filter(object_id=str(appointment.public_id)).count() == 4
    # A completed visit keeps its time.
    assert Occupancy.objects.filter(appointment=appointment).exists()


def test_no_show_only_after_the_start(clock, doctor, service, patient, registrar_a, tue9):
    appointment = book(patient, doctor, service, tue9)
    with pytest.raises(InvalidTransition) as err:
        appointment_mark_no_show(appointment=appointment, actor=registrar_a)
    assert err.value.code == "not_started"
    clock.advance(days=2)
    with pytest.raises(InvalidTransition):
        appointment_confirm(appointment=appointment, actor=patient.user)
    appointment = appointment_mark_no_show(appointment=appointment, actor=registrar_a)
    assert appointment.status == S.NO_SHOW
    assert OutboxMessage.objects.filter(event="appointment.no_show", channel="email").exists()


def test_a_patient_without_addresses_gets_no_messages_but_still_books(
    clock, doctor, service, registrar_a, tue9
):
    silent = PatientFactory(phone="", email="")
    book(silent, doctor, service, tue9, actor=registrar_a, channel="phone")
    assert Appointment.objects.filter(patient=silent).exists()
    assert not OutboxMessage.objects.exists()


def test_unknown_appointments_are_invalid_input(clock, registrar_a):
    ghost = Appointment(pk=999_999)
    with pytest.raises(InvalidInput):
        appointment_cancel(appointment=ghost, actor=registrar_a)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_the_database_itself_refuses_overlapping_occupancy(clock, doctor, service, patient, tue9):
    appointment = book(patient, doctor, service, tue9)
    row = Occupancy.objects.get(appointment=appointment, resource_kind="d")
    clash = Occupancy(
        resource_kind="d",
        resource_id=row.resource_id,
        clinic_id=row.clinic_id,
        starts_at=row.starts_at + datetime.timedelta(minutes=10),
        ends_at=row.ends_at + datetime.timedelta(minutes=10),
        appointment=appointment,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()
    # Back to back is fine: ranges are half-open.
    Occupancy.objects.create(
        resource_kind="d",
        resource_id=row.resource_id,
        clinic_id=row.clinic_id,
        starts_at=row.ends_at,
        ends_at=row.ends_at + datetime.timedelta(minutes=30),
        appointment=appointment,
    )


def test_a_rule_room_of_another_clinic_is_kept_and_the_visit_stays_in_the_rules_clinic(
    clock, clinic_a, clinic_b, service, patient, tue9
):
    doc = DoctorFactory(services=[service])
    elsewhere = RoomFactory(clinic=clinic_b)
    make_weekly_schedule(doc, clinic_a, room=elsewhere)
    appointment = book(patient, doc, service, tue9)
    appointment.refresh_from_db()
    assert (appointment.clinic, appointment.room) == (clinic_a, elsewhere)


def test_the_booked_visit_carries_its_rooms_public_id_without_a_query(
    clock, clinic_a, service, patient, tue9, django_assert_num_queries
):
    doc = DoctorFactory(services=[service])
    room = RoomFactory(clinic=clinic_a)
    make_weekly_schedule(doc, clinic_a, room=room)
    appointment = book(patient, doc, service, tue9)
    with django_assert_num_queries(0):
        assert appointment.room.public_id == room.public_id
    # The room's other fields load when first read.
    assert appointment.room.name == room.name
    appointment.refresh_from_db()
    assert appointment.room == room


def test_booking_for_oneself_takes_a_fixed_handful_of_queries(
    clock, clinic_a, doctor, service, patient, tue9, django_assert_num_queries
):
    BookingPolicy.objects.create(clinic=clinic_a)
    user = patient.user
    acts_as_patient(user)  # the request has loaded the caller's roles and profile already
    # The engine's reads (doctor, stand-ins, rules, exceptions, clinics, equipment types, then
    # occupancy and quotas), the patient's lock and count, the price of the day with the live
    # automatic promotions (one plain statement), whether the clinic takes the service prepaid,
    # the patient's message settings (one read for both channels), the writes (appointment,
    # occupancy, event, audit row, two messages) and the savepoint or transaction around them.
    with django_assert_num_queries(BOOKING_QUERIES):
        appointment = book(patient, doctor, service, tue9, actor=user)
    # The returned appointment carries what the API answer shows, without a reload.
    assert appointment.clinic == clinic_a
    assert appointment.room is None
    assert OutboxMessage.objects.filter(patient=patient).count() == 2


def test_a_visit_booked_or_moved_inside_the_free_window_is_not_a_late_cancellation(
    clock, clinic_a, doctor, service, patient, other_patient, tue9
):
    early = book(other_patient, doctor, service, local(clinic_a, 2027, 3, 5, 9))
    clock.advance(hours=2)  # now 23 hours before Tuesday 09:00, inside the 24-hour window
    booked_late = book(patient, doctor, service, tue9)
    clock.advance(minutes=1)
    assert appointment_cancel(appointment=booked_late, actor=patient.user).late_cancel is False
    # Booked with days to spare, then moved to a time already inside the window.
    moved = appointment_reschedule(appointment=early, start=tue9, actor=other_patient.user)
    clock.advance(minutes=1)
    assert appointment_cancel(appointment=moved, actor=other_patient.user).late_cancel is False
