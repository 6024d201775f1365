"""The placeholder language of message texts, SMS segments, and which text a message uses."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from notifications.models import MessageTemplate
from notifications.rendering import render_message
from notifications.services import outbox_message
from notifications.templating import (
    EVENTS,
    check_text,
    fill,
    sample_values,
    shipped_text,
    sms_length,
)

BOOKED = EVENTS["appointment.booked"]
CONTEXT = {
    "clinic": "Медфронт Центр",
    "clinic_address": "ул. Ленина, 1",
    "clinic_phone": "+73952000000",
    "doctor": "Петров И. С.",
    "service": "Приём терапевта",
    "preparation": "",
    "start": "2026-12-07T14:00:00+08:00",
    "diagnosis": "J06.9",
}


def test_it_fills_whitelisted_placeholders_as_plain_text():
    assert fill("{service} у {doctor}", {"service": "УЗИ", "doctor": "Петров"}) == "УЗИ у Петров"


def test_a_line_whose_placeholders_are_all_empty_is_left_out():
    text = "Запись: {service}\nПодготовка: {preparation}\nДо встречи!"
    assert fill(text, {"service": "УЗИ", "preparation": ""}) == "Запись: УЗИ\nДо встречи!"


def test_it_refuses_unknown_placeholders_and_attribute_paths():
    for text in ("{diagnosis}", "{doctor.user.password}", "{service.__class__}", "{amount}"):
        with pytest.raises(ValidationError) as error:
            check_text(text, event=EVENTS["appointment.cancelled"])
        assert error.value.code == "unknown_placeholder"


def test_the_refusal_is_translated():
    with translation.override("ru"), pytest.raises(ValidationError) as error:
        check_text("{diagnosis}", event=BOOKED)
    assert "Неизвестные подстановки: {diagnosis}" in error.value.messages[0]


def test_django_template_syntax_is_only_text():
    text = "{{ settings.SECRET_KEY }} {% load static %}"
    check_text(text, event=BOOKED)  # no placeholder in single braces: plain text
    assert fill(text, {}) == text


def test_sms_length_in_gsm7_and_ucs2_segments():
    assert sms_length("a" * 160).segments == 1
    assert sms_length("a" * 161).segments == 2
    assert sms_length("a" * 306).segments == 2
    assert sms_length("a" * 307).segments == 3
    assert sms_length("€" * 80) == sms_length("a" * 160)  # extension characters count twice
    russian = sms_length("я" * 70)
    assert (russian.encoding, russian.segments) == ("UCS-2", 1)
    assert sms_length("я" * 71).segments == 2
    assert sms_length("я" * 135).segments == 3
    assert sms_length("").segments == 0


def test_the_shipped_text_is_written_with_placeholders_in_each_language():
    subject, body = shipped_text(event=BOOKED, channel="sms", language="ru")
    assert subject == "Запись на приём: {time}"
    assert "{service}" in body and "{doctor}" in body
    check_text(body, event=BOOKED)
    _subject, english = shipped_text(event=BOOKED, channel="email", language="en")
    assert english.startswith("You are booked for {service}")


def test_every_sample_and_shipped_text_passes_its_own_check():
    for event in EVENTS.values():
        for language in ("ru", "en"):
            assert set(sample_values(event=event, language=language)) == set(event.placeholders)
            for channel in event.channels:
                subject, body = shipped_text(event=event, channel=channel, language=language)
                check_text(subject, event=event)
                check_text(body, event=event)


@pytest.mark.django_db
def test_a_clinic_text_comes_before_the_network_text_before_the_file(patient, clinic_a, clinic_b):
    def rendered(clinic):
        message = outbox_message(
            event="appointment.booked",
            channel="sms",
            patient=patient,
            context=CONTEXT,
            language="ru",
            clinic=clinic,
        )
        return render_message(message)

    assert "Вы записаны на" in rendered(clinic_a)[1]  # the shipped file
    MessageTemplate.objects.create(
        event="appointment.booked", channel="sms", language="ru", body="Сеть: {service}, {time}"
    )
    MessageTemplate.objects.create(
        clinic=clinic_a,
        event="appointment.booked",
        channel="sms",
        language="ru",
        body="{clinic}: {service} у {doctor}\nПодготовка: {preparation}",
    )
    assert rendered(clinic_a) == ("", "Медфронт Центр: Приём терапевта у Петров И. С.")
    assert rendered(clinic_b)[1].startswith("Сеть: Приём терапевта, 7 дек")
    assert rendered(None)[1].startswith("Сеть: ")
    # Another language still uses the file.
    english = outbox_message(
        event="appointment.booked",
        channel="sms",
        patient=patient,
        context=CONTEXT,
        language="en",
        clinic=clinic_a,
    )
    assert render_message(english)[1].startswith("You are booked for")


@pytest.mark.django_db
def test_events_without_editable_texts_render_as_before(patient, clinic_a):
    message = outbox_message(
        event="test.hello", channel="sms", patient=patient, context={"text": "Привет"}
    )
    assert render_message(message) == ("", "Привет")
