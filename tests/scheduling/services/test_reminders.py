"""Visit reminders: per-clinic offsets in the clinic's zone, contact hours, exactly once per
visit placement and offset, none for cancelled, moved-away or rolled-back visits."""

import datetime
import zoneinfo

import pytest

from notifications.dispatch import outbox_dispatch_due
from notifications.models import OutboxMessage
from notifications.rendering import render_message
from notifications.services import next_contact_time
from portal.choices import ConsentPurpose
from portal.models import Consent, ConsentDocument
from scheduling.models import BookingPolicy
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_rollback,
)
from scheduling.services.reminders import (
    REMINDER_EVENT,
    _record,
    plan_reminder,
    reminders_enqueue_due,
)
from tests.factories import DoctorFactory, PatientWithLoginFactory, make_weekly_schedule
from tests.scheduling.conftest import T0, local

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
IRKUTSK = zoneinfo.ZoneInfo("Asia/Irkutsk")
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def book(patient, doctor, service, start):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=start,
        channel="online",
        actor=patient.user,
    )


def reminders():
    return list(OutboxMessage.objects.filter(event=REMINDER_EVENT).order_by("due_at"))


@pytest.fixture
def tue9(clinic_a):
    """Tuesday 2 March 2027, 09:00 in Irkutsk = 01:00 UTC; booked at T0 (Monday 08:00)."""
    return local(clinic_a, 2027, 3, 2, 9)


def test_the_day_before_reminder_goes_at_the_clinics_local_time_once(
    clock, doctor, service, patient, tue9
):
    appointment = book(patient, doctor, service, tue9)
    clock.advance(minutes=59)  # Monday 08:59 in Irkutsk: not yet 24 h before
    assert reminders_enqueue_due() == 0
    clock.advance(minutes=2)
    assert reminders_enqueue_due() == 1
    assert reminders_enqueue_due() == 0  # the next run records nothing twice
    [reminder] = reminders()
    assert reminder.channel == "sms"
    assert reminder.patient_id == patient.pk
    assert reminder.due_at == datetime.datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # Mon 09:00 local
    assert reminder.idempotency_key.startswith(f"reminder:{appointment.public_id}:1440:")
    assert outbox_dispatch_due() >= 1
    reminder.refresh_from_db()
    assert reminder.status == "sent"
    assert "2 марта 2027 г. 9:00 (время: Иркутск, UTC+8)" in reminder.body
    assert service.name in reminder.body


def test_a_reminder_due_before_contact_hours_waits_for_the_morning(
    clock, doctor, service, patient, tue9
):
    """Two hours before 09:00 is 07:00, before the 08:00 opening of contact hours: the
    reminder is recorded at its time but due at 08:00 local (00:00 UTC)."""
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 23, 1, tzinfo=UTC)  # Tue 07:01 Irkutsk
    assert reminders_enqueue_due() == 1
    [reminder] = reminders()
    assert reminder.idempotency_key.split(":")[2] == "120"  # the day-before one is stale now
    assert reminder.due_at == datetime.datetime(2027, 3, 2, 0, 0, tzinfo=UTC)
    outbox_dispatch_due()
    reminder.refresh_from_db()
    assert reminder.status == "pending"  # not before 08:00
    clock.now = datetime.datetime(2027, 3, 2, 0, 0, tzinfo=UTC)
    outbox_dispatch_due()
    reminder.refresh_from_db()
    assert reminder.status == "sent"


def test_offsets_are_the_clinics_own(clock, doctor, service, patient, tue9, clinic_a):
    BookingPolicy.objects.create(clinic=clinic_a, reminder_offsets_minutes=[180])
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)  # 24 h before: not configured
    assert reminders_enqueue_due() == 0
    clock.now = tue9 - datetime.timedelta(hours=3)
    assert reminders_enqueue_due() == 1
    assert reminders()[0].idempotency_key.split(":")[2] == "180"


def test_no_offsets_means_no_reminders(clock, doctor, service, patient, tue9, clinic_a):
    BookingPolicy.objects.create(clinic=clinic_a, reminder_offsets_minutes=[])
    book(patient, doctor, service, tue9)
    clock.now = tue9 - datetime.timedelta(minutes=30)
    assert reminders_enqueue_due() == 0


def test_a_moscow_visit_is_reminded_on_moscow_time(clock, service, patient, clinic_b):
    doctor = DoctorFactory(services=[service], clinics=[clinic_b])
    make_weekly_schedule(doctor, clinic_b)
    start = local(clinic_b, 2027, 3, 2, 10)  # 07:00 UTC
    book(patient, doctor, service, start)
    clock.now = datetime.datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    assert reminders_enqueue_due() == 1
    assert reminders()[0].due_at == datetime.datetime(2027, 3, 1, 7, 0, tzinfo=UTC)


def test_a_cancelled_visit_gets_no_reminder_and_loses_the_waiting_one(
    clock, doctor, service, patient, tue9
):
    appointment = book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 23, 1, tzinfo=UTC)  # 2 h reminder, deferred
    assert reminders_enqueue_due() == 1
    appointment_cancel(appointment=appointment, actor=patient.user)
    [reminder] = reminders()
    assert reminder.status == "cancelled"
    clock.now = datetime.datetime(2027, 3, 2, 0, 30, tzinfo=UTC)
    assert reminders_enqueue_due() == 0
    outbox_dispatch_due()
    assert [m.status for m in reminders()] == ["cancelled"]


def test_a_moved_visit_is_reminded_for_its_new_time_only(
    clock, doctor, service, patient, tue9, clinic_a
):
    BookingPolicy.objects.create(clinic=clinic_a, contact_hours_start=datetime.time(10))
    appointment = book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)  # Mon 09:01 local
    assert reminders_enqueue_due() == 1
    [waiting] = reminders()
    assert waiting.due_at == datetime.datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # Mon 10:00 local
    new_start = tue9 + datetime.timedelta(days=1)  # Wednesday 09:00 local
    appointment_reschedule(appointment=appointment, start=new_start, actor=patient.user)
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"
    assert reminders_enqueue_due() == 0
    clock.now = datetime.datetime(2027, 3, 2, 1, 1, tzinfo=UTC)  # Tue 09:01: 24 h before Wed
    assert reminders_enqueue_due() == 1
    assert reminders_enqueue_due() == 0
    [new] = [m for m in reminders() if m.status == "pending"]
    assert new.idempotency_key != waiting.idempotency_key
    assert new.due_at == datetime.datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # Tue 10:00 local
    assert new.context["start"] == new_start.isoformat()


def test_a_rolled_back_booking_is_never_reminded(
    clock, doctor, service, patient, clinic_a, registrar_a
):
    start = local(clinic_a, 2027, 3, 1, 10)  # today 10:00; booked at 08:00 = its 2 h time
    appointment = book(patient, doctor, service, start)
    clock.advance(minutes=10)
    assert reminders_enqueue_due() == 0  # the booking may still be rolled back
    appointment_rollback(appointment=appointment, actor=registrar_a)
    clock.advance(minutes=30)
    assert reminders_enqueue_due() == 0
    assert reminders() == []


def test_a_reminder_waits_until_the_booking_can_no_longer_be_rolled_back(
    clock, doctor, service, patient, clinic_a
):
    start = local(clinic_a, 2027, 3, 1, 10)  # booked at 08:00, its 2 h reminder time
    book(patient, doctor, service, start)
    clock.now = T0 + datetime.timedelta(minutes=10)
    assert reminders_enqueue_due() == 0  # the 15-minute rollback window is still open
    clock.now = T0 + datetime.timedelta(minutes=15)
    assert reminders_enqueue_due() == 1


def test_a_visit_booked_after_its_reminder_time_gets_no_reminder(
    clock, doctor, service, patient, clinic_a
):
    start = local(clinic_a, 2027, 3, 1, 9, 30)  # 90 minutes after booking
    book(patient, doctor, service, start)
    clock.now = start - datetime.timedelta(minutes=30)
    assert reminders_enqueue_due() == 0


def test_a_racing_run_records_the_reminder_once(clock, doctor, service, patient, tue9):
    """Two runs that both looked and found nothing: the unique key lets one insert."""
    from scheduling.services.reminders import PlannedReminder, reminder_key

    appointment = book(patient, doctor, service, tue9)
    planned = PlannedReminder(offset_minutes=1440, send_at=T0)
    key = reminder_key(appointment, offset_minutes=1440, placement_id=1)
    assert _record(appointment, planned=planned, key=key) is True
    assert _record(appointment, planned=planned, key=key) is False
    assert len(reminders()) == 1


def test_a_patient_who_withdrew_notification_consent_is_not_reminded(
    clock, doctor, service, patient, tue9
):
    document = ConsentDocument.objects.create(
        purpose=ConsentPurpose.SERVICE_NOTIFICATIONS,
        version="1",
        title="Уведомления",
        body="Текст",
        published_at=T0,
    )
    Consent.objects.create(
        patient=patient,
        purpose=ConsentPurpose.SERVICE_NOTIFICATIONS,
        document=document,
        document_version="1",
        document_sha256=document.sha256,
        signer_kind="patient",
        channel="web",
        signature_method="click",
        signed_at=T0,
        withdrawn_at=T0,
    )
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 0


def test_a_landline_gets_the_reminder_by_email(clock, doctor, service, patient, tue9):
    patient.phone = "+73952200200"  # an Irkutsk landline
    patient.email = "anna@example.test"
    patient.save()
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 1
    assert reminders()[0].channel == "email"


def test_the_reminder_text_is_translated_and_names_no_diagnosis(
    clock, doctor, service, patient, tue9
):
    patient.preferred_language = "ru"
    patient.save()
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    reminders_enqueue_due()
    [reminder] = reminders()
    subject, body = render_message(reminder)
    assert body.startswith("Напоминание: 2 марта 2027 г. 9:00")
    assert subject.startswith("Напоминание: ваш приём")
    reminder.language = "en"
    subject, body = render_message(reminder)
    assert body.startswith("Reminder:")


# --- Zone and contact-hours arithmetic -----------------------------------------------------


def policy(**fields):
    return BookingPolicy(**fields)


@pytest.mark.parametrize("zone", [IRKUTSK, MOSCOW])
def test_contact_hours_are_wall_clock_hours_of_the_zone(zone):
    opens, closes = datetime.time(8), datetime.time(20)
    late = datetime.datetime(2027, 3, 1, 21, 30, tzinfo=zone)
    assert next_contact_time(late, zone=zone, opens=opens, closes=closes) == datetime.datetime(
        2027, 3, 2, 8, 0, tzinfo=zone
    )
    early = datetime.datetime(2027, 3, 1, 6, 0, tzinfo=zone)
    assert next_contact_time(early, zone=zone, opens=opens, closes=closes) == datetime.datetime(
        2027, 3, 1, 8, 0, tzinfo=zone
    )
    inside = datetime.datetime(2027, 3, 1, 19, 59, tzinfo=zone)
    assert next_contact_time(inside, zone=zone, opens=opens, closes=closes) == inside
    closing = datetime.datetime(2027, 3, 1, 20, 0, tzinfo=zone)
    assert next_contact_time(closing, zone=zone, opens=opens, closes=closes) != closing
    assert next_contact_time(early, zone=zone, opens=opens, closes=closes, urgent=True) == early


def test_the_next_window_opens_at_local_8_on_a_dst_change_day():
    """In a zone with DST the morning after the spring change is 08:00 on the new offset."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    night = datetime.datetime(2027, 3, 27, 23, 0, tzinfo=berlin)  # UTC+1; clocks go on at 02:00
    morning = next_contact_time(
        night, zone=berlin, opens=datetime.time(8), closes=datetime.time(20)
    )
    assert morning == datetime.datetime(2027, 3, 28, 6, 0, tzinfo=UTC)  # 08:00 UTC+2


def test_a_window_across_midnight():
    zone = MOSCOW
    opens, closes = datetime.time(22), datetime.time(6)
    assert next_contact_time(
        datetime.datetime(2027, 3, 1, 23, 0, tzinfo=zone), zone=zone, opens=opens, closes=closes
    ) == datetime.datetime(2027, 3, 1, 23, 0, tzinfo=zone)
    assert next_contact_time(
        datetime.datetime(2027, 3, 1, 12, 0, tzinfo=zone), zone=zone, opens=opens, closes=closes
    ) == datetime.datetime(2027, 3, 1, 22, 0, tzinfo=zone)


@pytest.mark.parametrize(
    ("zone", "start_local", "expected_local"),
    [
        # 24 h before 09:00 is 09:00 the day before, inside contact hours.
        (IRKUTSK, (2027, 3, 2, 9, 0), (2027, 3, 1, 9, 0)),
        (MOSCOW, (2027, 3, 2, 9, 0), (2027, 3, 1, 9, 0)),
        # 24 h before 07:30 is 07:30 the day before: deferred to 08:00.
        (IRKUTSK, (2027, 3, 2, 7, 30), (2027, 3, 1, 8, 0)),
        (MOSCOW, (2027, 3, 2, 7, 30), (2027, 3, 1, 8, 0)),
    ],
)
def test_plan_reminder_in_the_clinics_zone(zone, start_local, expected_local):
    start = datetime.datetime(*start_local, tzinfo=zone)
    now = start - datetime.timedelta(hours=23, minutes=55)
    planned = plan_reminder(
        starts_at=start,
        placed_at=start - datetime.timedelta(days=5),
        policy=policy(),
        zone=zone,
        now=now,
    )
    assert planned is not None
    assert planned.offset_minutes == 1440
    assert planned.send_at == datetime.datetime(*expected_local, tzinfo=zone)


def test_a_reminder_deferred_past_the_visit_is_dropped():
    """A 2 h reminder for an 08:30 visit falls at 06:30, deferred to 08:00: still before the
    visit. For a 07:30 visit the deferral would reach the visit itself: no reminder."""
    zone = IRKUTSK
    early = datetime.datetime(2027, 3, 2, 8, 30, tzinfo=zone)
    plan = plan_reminder(
        starts_at=early,
        placed_at=early - datetime.timedelta(days=5),
        policy=policy(reminder_offsets_minutes=[120]),
        zone=zone,
        now=early - datetime.timedelta(minutes=119),
    )
    assert plan is not None and plan.send_at == datetime.datetime(2027, 3, 2, 8, 0, tzinfo=zone)
    earlier = datetime.datetime(2027, 3, 2, 7, 30, tzinfo=zone)
    assert (
        plan_reminder(
            starts_at=earlier,
            placed_at=earlier - datetime.timedelta(days=5),
            policy=policy(reminder_offsets_minutes=[120]),
            zone=zone,
            now=earlier - datetime.timedelta(minutes=119),
        )
        is None
    )


def test_a_clinic_reminding_days_ahead_is_looked_at_that_far(
    clock, doctor, service, patient, clinic_a
):
    BookingPolicy.objects.create(clinic=clinic_a, reminder_offsets_minutes=[3 * 24 * 60])
    start = local(clinic_a, 2027, 3, 5, 9)  # Friday 09:00; booked Monday 08:00
    book(patient, doctor, service, start)
    clock.now = start - datetime.timedelta(days=3)
    assert reminders_enqueue_due() == 1
    assert reminders()[0].due_at == start - datetime.timedelta(days=3)


@pytest.mark.parametrize(
    "offsets",
    [[0], [-60], [120, 120], [1.5], ["60"], [True], [60, 120, 180, 240, 300], 60, [20161]],
)
def test_reminder_offsets_are_validated(offsets):
    from django.core.exceptions import ValidationError

    from scheduling.models.rules import validate_reminder_offsets

    with pytest.raises(ValidationError):
        validate_reminder_offsets(offsets)


@pytest.mark.parametrize("offsets", [[], [1440, 120], [20160]])
def test_reasonable_reminder_offsets_pass(offsets):
    from scheduling.models.rules import validate_reminder_offsets

    validate_reminder_offsets(offsets)


def test_a_booking_waiting_for_its_prepayment_is_not_reminded(
    clock, doctor, prepaid, patient, tue9
):
    appointment = book(patient, doctor, prepaid, tue9)
    assert appointment.payment_due_at is not None
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 0


def test_a_patient_with_neither_a_mobile_nor_an_email_is_skipped_and_the_run_goes_on(
    clock, doctor, service, patient, clinic_a, tue9
):
    """Nothing to send a reminder to: no message is recorded for that visit, and the later
    visit of another patient in the same run still gets its reminder."""
    patient.phone = "+73952200200"  # an Irkutsk landline: no SMS
    patient.email = ""
    patient.save()
    other = PatientWithLoginFactory()
    unreachable = book(patient, doctor, service, tue9)
    reachable = book(other, doctor, service, tue9 + datetime.timedelta(hours=1))
    clock.now = datetime.datetime(2027, 3, 1, 2, 1, tzinfo=UTC)  # Mon 10:01: both 24 h due
    assert reminders_enqueue_due() == 1
    [reminder] = reminders()
    assert reminder.patient_id == other.pk
    assert reminder.channel == "sms"
    assert reminder.idempotency_key.startswith(f"reminder:{reachable.public_id}:1440:")
    assert not OutboxMessage.objects.filter(
        idempotency_key__startswith=f"reminder:{unreachable.public_id}:"
    ).exists()
    assert reminders_enqueue_due() == 0  # still nothing for the unreachable patient


def test_a_stored_phone_that_does_not_parse_gets_the_reminder_by_email(
    clock, doctor, service, patient, tue9
):
    """Older data may hold a number phonenumbers cannot parse: no SMS is tried and the
    reminder goes by e-mail instead of the run failing."""
    patient.phone = "нет"  # "none": a placeholder typed before numbers were normalised
    patient.save()
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 1
    [reminder] = reminders()
    assert reminder.channel == "email"
    assert reminder.to_address == patient.email


def test_a_stored_phone_that_does_not_parse_and_no_email_gets_no_reminder(
    clock, doctor, service, patient, tue9
):
    patient.phone = "нет"
    patient.email = ""
    patient.save()
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 0
    assert reminders() == []


# --- The patient's message settings (portal "Messages" page, STOP replies) ------------------


def link_telegram(patient, chat="4242"):
    from portal.models import MessengerLink
    from portal.models.contact import chat_index

    MessengerLink.objects.create(patient=patient, chat_id=chat, chat_bidx=chat_index(chat))


def test_a_linked_telegram_chat_gets_the_reminder(clock, doctor, service, patient, tue9):
    link_telegram(patient)
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 1
    [reminder] = reminders()
    assert (reminder.channel, reminder.to_address) == ("messenger", "4242")


def test_reminders_skip_channels_the_patient_turned_off_or_stopped(
    clock, doctor, service, patient, tue9
):
    from portal.services.contact import contact_channel_stop, contact_preferences_set

    link_telegram(patient)
    contact_channel_stop(patients=[patient], channel="messenger")
    contact_preferences_set(actor=None, patient=patient, choices={("sms", "care"): False})
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 1
    assert reminders()[0].channel == "email"


def test_no_reminder_when_every_channel_is_off(clock, doctor, service, patient, tue9):
    from portal.services.contact import contact_preferences_set

    contact_preferences_set(
        actor=None, patient=patient, choices={("sms", "care"): False, ("email", "care"): False}
    )
    book(patient, doctor, service, tue9)
    clock.now = datetime.datetime(2027, 3, 1, 1, 1, tzinfo=UTC)
    assert reminders_enqueue_due() == 0
