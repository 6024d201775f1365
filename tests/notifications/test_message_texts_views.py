"""The message-text pages: who may edit which texts, save, preview, restore, bad input."""

import pytest
from django.urls import reverse

from notifications.models import MessageTemplate
from portal.models import AuditEvent
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:message_texts")


def edit_url(scope, event="appointment.reminder", channel="sms", language="ru", preview=False):
    name = "notifications:message_text_preview" if preview else "notifications:message_text_edit"
    return reverse(name, args=[scope, event, channel, language])


@pytest.mark.parametrize("persona", ["clinic_admin_a", "network_admin"])
def test_clinic_and_network_admins_see_the_texts_of_their_clinic(request, persona, clinic_a):
    response = client_for(request.getfixturevalue(persona)).get(f"{LIST}?scope={clinic_a.pk}")
    assert response.status_code == 200
    assert "Напоминание перед приёмом" in response.text
    assert edit_url(clinic_a.pk) in response.text


@pytest.mark.parametrize(
    "persona", ["registrar_a", "head_nurse_a", "doctor_a", "director", "marketer", "patient"]
)
def test_other_roles_and_patients_are_refused(request, persona, clinic_a):
    user = request.getfixturevalue(persona)
    client = client_for(getattr(user, "user", user))
    assert client.get(LIST).status_code == 403
    assert client.get(edit_url(clinic_a.pk)).status_code == 403
    assert client.post(edit_url(clinic_a.pk), {"body": "x"}).status_code == 403
    assert not MessageTemplate.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, clinic_a):
    response = client.get(edit_url(clinic_a.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_clinic_admin_cannot_reach_another_clinic_or_the_network_defaults(
    clinic_admin_a, clinic_b
):
    client = client_for(clinic_admin_a)
    assert client.get(f"{LIST}?scope={clinic_b.pk}").status_code == 404
    assert client.post(edit_url(clinic_b.pk), {"body": "Чужой текст"}).status_code == 404
    assert client.get(edit_url("network")).status_code == 403
    assert client.post(edit_url("network"), {"body": "Сеть"}).status_code == 403
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    ("scope", "event", "channel", "language"),
    [
        ("abc", "appointment.reminder", "sms", "ru"),
        ("999999", "appointment.reminder", "sms", "ru"),
        ("{clinic}", "appointment.unknown", "sms", "ru"),
        ("{clinic}", "appointment.reminder", "fax", "ru"),
        ("{clinic}", "appointment.reminder", "messenger", "ru"),
        ("{clinic}", "appointment.reminder", "sms", "de"),
    ],
)
def test_unknown_scopes_events_channels_and_languages_are_404(
    clinic_admin_a, clinic_a, scope, event, channel, language
):
    url = edit_url(scope.format(clinic=clinic_a.pk), event, channel, language)
    assert client_for(clinic_admin_a).get(url).status_code == 404


def test_the_edit_page_starts_from_the_shipped_text_with_its_sms_length(clinic_admin_a, clinic_a):
    response = client_for(clinic_admin_a).get(edit_url(clinic_a.pk))
    assert response.status_code == 200
    assert "Напоминание: {time} — {service}" in response.text
    # The preview fills in sample data and counts UCS-2 segments (Cyrillic).
    assert "Приём терапевта" in response.text
    assert "UCS-2" in response.text


def test_a_clinic_admin_saves_an_sms_text_for_their_clinic(clinic_admin_a, clinic_a):
    body = "Ждём вас {time}: {service}, {doctor}. {clinic_phone}"
    response = client_for(clinic_admin_a).post(edit_url(clinic_a.pk), {"body": body})
    assert response.status_code == 302
    row = MessageTemplate.objects.get()
    assert (row.clinic, row.event, row.channel, row.language) == (
        clinic_a,
        "appointment.reminder",
        "sms",
        "ru",
    )
    assert row.body == body and row.updated_by == clinic_admin_a
    event = AuditEvent.objects.get(object_type="notifications.messagetemplate")
    assert event.action == "create" and event.clinic_id == clinic_a.pk
    # Saving again replaces it.
    client_for(clinic_admin_a).post(edit_url(clinic_a.pk), {"body": "Снова {service}"})
    assert MessageTemplate.objects.get().body == "Снова {service}"


def test_an_email_text_needs_a_subject(clinic_admin_a, clinic_a):
    url = edit_url(clinic_a.pk, channel="email")
    response = client_for(clinic_admin_a).post(url, {"body": "Текст {service}"})
    assert response.status_code == 200
    assert not MessageTemplate.objects.exists()
    client_for(clinic_admin_a).post(url, {"subject": "Запись {time}", "body": "Текст {service}"})
    assert MessageTemplate.objects.get().subject == "Запись {time}"


@pytest.mark.parametrize(
    "body", ["Диагноз: {diagnosis}", "{doctor.user.email}", "{amount}", "   ", "x" * 2001]
)
def test_bad_text_is_refused_with_a_translated_error_and_nothing_saved(
    clinic_admin_a, clinic_a, body
):
    client = client_for(clinic_admin_a)
    client.cookies["django_language"] = "ru"
    response = client.post(edit_url(clinic_a.pk), {"body": body}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert 'class="field-error"' in response.text
    assert not MessageTemplate.objects.exists()


def test_the_unknown_placeholder_error_names_it_in_russian(clinic_admin_a, clinic_a):
    client = client_for(clinic_admin_a)
    response = client.post(
        edit_url(clinic_a.pk), {"body": "Диагноз: {diagnosis}"}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert "Неизвестные подстановки: {diagnosis}" in response.text


def test_the_preview_button_shows_the_text_without_saving(clinic_admin_a, clinic_a):
    response = client_for(clinic_admin_a).post(
        edit_url(clinic_a.pk), {"body": "Ждём {service}", "action": "preview"}
    )
    assert response.status_code == 200
    assert "Ждём Приём терапевта" in response.text
    assert not MessageTemplate.objects.exists()


def test_the_live_preview_fills_sample_data_and_counts_segments(clinic_admin_a, clinic_a):
    client = client_for(clinic_admin_a)
    url = edit_url(clinic_a.pk, language="en", preview=True)
    response = client.post(url, {"body": "Hello {service}"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="message-preview"' in response.text and "GSM-7" in response.text
    assert "Hello General practitioner visit" in response.text
    refused = client.post(url, {"body": "{diagnosis}"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "{diagnosis}" in refused.text
    assert client.get(url).status_code == 405
    assert not MessageTemplate.objects.exists()


def test_the_network_admin_edits_the_network_defaults(network_admin, clinic_a):
    client = client_for(network_admin)
    assert "network" in client.get(LIST).text
    client.post(edit_url("network"), {"body": "Сеть: {service}"})
    row = MessageTemplate.objects.get()
    assert row.clinic is None
    page = client.get(f"{LIST}?scope={clinic_a.pk}")
    assert page.status_code == 200


def test_restoring_the_default_deletes_the_clinic_text(clinic_admin_a, clinic_a):
    client = client_for(clinic_admin_a)
    client.post(edit_url(clinic_a.pk), {"body": "Своё {service}"})
    assert (
        "Restore the default" in client.get(edit_url(clinic_a.pk), HTTP_ACCEPT_LANGUAGE="en").text
        or "Вернуть" in client.get(edit_url(clinic_a.pk)).text
    )
    response = client.post(edit_url(clinic_a.pk), {"action": "reset"})
    assert response.status_code == 302
    assert not MessageTemplate.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="notifications.messagetemplate", action="delete"
    ).exists()
    # Restoring again changes nothing.
    assert client.post(edit_url(clinic_a.pk), {"action": "reset"}).status_code == 302


def test_the_home_page_links_the_message_pages_for_those_who_may_use_them(
    clinic_admin_a, registrar_a, doctor_a
):
    texts, log = reverse("notifications:message_texts"), reverse("notifications:message_log")
    home = reverse("portal:home")
    admin_home = client_for(clinic_admin_a).get(home, follow=True).text
    assert texts in admin_home and log in admin_home
    registrar_home = client_for(registrar_a).get(home, follow=True).text
    assert log in registrar_home and texts not in registrar_home
    doctor_home = client_for(doctor_a).get(home, follow=True).text
    assert log not in doctor_home and texts not in doctor_home


def test_a_clinic_admin_of_a_closed_clinic_has_no_texts_to_edit(clinic_admin_a, clinic_a):
    clinic_a.is_active = False
    clinic_a.save(update_fields=["is_active"])
    assert client_for(clinic_admin_a).get(LIST).status_code == 404
