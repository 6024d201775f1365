"""A booking's messages as the patient reads them: the visit's local time is written out in the
message's language when the outbox renders it, not when the booking is made."""

import pytest

from notifications.models import OutboxMessage
from notifications.rendering import render_message
from scheduling.choices import AppointmentChannel
from scheduling.services.booking import appointment_book
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "written_out"),
    [("ru", "2 марта 2027 г. 9:00"), ("en", "2 Mar 2027, 09:00")],
)
def test_a_booking_message_names_the_clinics_local_time_in_the_patients_language(
    clock, clinic_a, doctor, service, patient, language, written_out
):
    patient.preferred_language = language
    patient.save()
    appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),  # Irkutsk, UTC+8
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )
    messages = OutboxMessage.objects.filter(patient=patient, event="appointment.booked")
    assert {m.channel for m in messages} == {"sms", "email"}
    for message in messages:
        assert "start_display" not in message.context
        assert message.context["start"] == "2027-03-02T09:00:00+08:00"
        subject, body = render_message(message)
        assert written_out in body
    email = messages.get(channel="email")
    assert written_out in render_message(email)[0]


def test_a_context_that_brings_its_own_display_time_or_none_renders_as_it_is(patient):
    from notifications.services import outbox_message

    own = outbox_message(
        event="appointment.booked",
        channel="sms",
        patient=patient,
        context={
            "start": "2027-03-02T09:00:00+08:00",
            "start_display": "завтра в 9",
            "doctor": "Д",
        },
    )
    assert "завтра в 9" in render_message(own)[1]
    for start in ("not a time", None):
        odd = outbox_message(
            event="appointment.booked", channel="sms", patient=patient, context={"start": start}
        )
        subject, body = render_message(odd)
        assert body.startswith("Вы записаны") and "None" not in body  # the time left blank


def _link_telegram(patient, chat="4242"):
    from portal.models import MessengerLink
    from portal.models.contact import chat_index

    MessengerLink.objects.create(patient=patient, chat_id=chat, chat_bidx=chat_index(chat))


def _book_tuesday(clinic_a, doctor, service, patient):
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel=AppointmentChannel.ONLINE,
        actor=patient.user,
    )


def test_a_linked_telegram_chat_gets_the_confirmation_instead_of_the_sms(
    clock, clinic_a, doctor, service, patient
):
    _link_telegram(patient)
    _book_tuesday(clinic_a, doctor, service, patient)
    messages = OutboxMessage.objects.filter(patient=patient, event="appointment.booked")
    assert {(m.channel, m.to_address) for m in messages if m.channel != "email"} == {
        ("messenger", "4242")
    }
    assert sorted(m.channel for m in messages) == ["email", "messenger"]
    # Rendered from the event's generic text, as every channel without its own.
    assert "9:00" in render_message(messages.get(channel="messenger"))[1]


@pytest.mark.parametrize("how", ["stopped", "turned_off"])
def test_a_chat_that_takes_no_visit_messages_leaves_the_confirmation_on_sms(
    clock, clinic_a, doctor, service, patient, how
):
    from portal.services.contact import contact_channel_stop, contact_preferences_set

    _link_telegram(patient)
    if how == "stopped":
        contact_channel_stop(patients=[patient], channel="messenger")
    else:
        contact_preferences_set(
            patient=patient, actor=patient.user, choices={("messenger", "care"): False}
        )
    _book_tuesday(clinic_a, doctor, service, patient)
    channels = OutboxMessage.objects.filter(patient=patient, event="appointment.booked")
    assert sorted(channels.values_list("channel", flat=True)) == ["email", "sms"]


def test_visit_day_messages_stay_on_email_with_a_chat(patient):
    from scheduling.choices import AppointmentEventKind
    from scheduling.services.history import notify_channels

    _link_telegram(patient)
    assert notify_channels(AppointmentEventKind.CHECKED_IN, patient) == ("email",)
    assert notify_channels(AppointmentEventKind.CANCELLED, patient) == ("messenger", "email")
