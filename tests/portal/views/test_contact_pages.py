"""The patient's "Messages" and "Telegram" pages: who may use them, what they save and show."""

import pytest
from django.test import Client
from django.urls import reverse

from portal.consent_texts import ensure_consent_documents
from portal.models import AuditEvent, ContactPreference, MessengerLink, MessengerLinkCode
from portal.models.contact import chat_index
from portal.services.contact import contact_channel_stop
from tests.notifications.test_preferences import advertising_consent

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("portal:notification_settings")
LINK_URL = reverse("portal:telegram_link")
UNLINK_URL = reverse("portal:telegram_unlink")


@pytest.fixture(autouse=True)
def documents(db, settings):
    ensure_consent_documents()
    settings.TELEGRAM_BOT_USERNAME = "medfront_test_bot"


@pytest.fixture
def as_user(as_user):
    """Signed-in clients reading the pages in English."""

    def english(user):
        client = as_user(user)
        client.cookies["django_language"] = "en"
        return client

    return english


def link(patient, chat="31337"):
    MessengerLink.objects.create(patient=patient, chat_id=chat, chat_bidx=chat_index(chat))


# --- Who may use the pages ------------------------------------------------------------------


def test_the_patient_reaches_both_pages(patient, as_user):
    client = as_user(patient.user)
    assert client.get(SETTINGS_URL).status_code == 200
    assert client.get(LINK_URL).status_code == 200


@pytest.mark.parametrize(
    "persona",
    [
        "registrar_a",
        "registrar_b",
        "head_nurse_a",
        "doctor_a",
        "clinic_admin_a",
        "director",
        "network_admin",
        "marketer",
    ],
)
def test_staff_are_refused(persona, request, as_user):
    client = as_user(request.getfixturevalue(persona))
    for url in (SETTINGS_URL, LINK_URL):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    assert client.post(UNLINK_URL).status_code == 403
    assert not MessengerLinkCode.objects.exists()


def test_anonymous_visitors_go_to_sign_in():
    for url in (SETTINGS_URL, LINK_URL):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_unlink_takes_post_only(patient, as_user):
    assert as_user(patient.user).get(UNLINK_URL).status_code == 405


# --- Messages page --------------------------------------------------------------------------


def test_the_patient_turns_channels_and_kinds_on_and_off(patient, as_user):
    advertising_consent(patient)
    client = as_user(patient.user)
    response = client.post(
        SETTINGS_URL, {"sms_care": "on", "email_care": "on", "email_marketing": "on"}
    )
    assert response.status_code == 302
    prefs = {
        p.channel: (p.care, p.marketing) for p in ContactPreference.objects.filter(patient=patient)
    }
    assert prefs == {"sms": (True, False), "email": (True, True), "messenger": (False, False)}
    assert AuditEvent.objects.filter(object_type="portal.contact_preference").exists()


def test_marketing_switches_need_the_advertising_consent(patient, as_user):
    client = as_user(patient.user)
    page = client.get(SETTINGS_URL).content.decode()
    assert 'name="sms_marketing"' not in page
    assert "consent to advertising" in page
    client.post(SETTINGS_URL, {"sms_care": "on", "sms_marketing": "on"})
    assert ContactPreference.objects.get(patient=patient, channel="sms").marketing is True
    # The crafted field was ignored: marketing kept its default and still needs the consent.
    assert ContactPreference.objects.get(patient=patient, channel="sms").care is True


def test_the_page_warns_when_no_channel_carries_visit_messages(patient, as_user):
    client = as_user(patient.user)
    assert "No channel carries your visit messages" not in client.get(SETTINGS_URL).content.decode()
    client.post(SETTINGS_URL, {})
    assert "No channel carries your visit messages" in client.get(SETTINGS_URL).content.decode()


def test_a_landline_and_a_stop_are_explained(patient, as_user):
    patient.phone = "+74952000000"
    patient.save()
    contact_channel_stop(patients=[patient], channel="email")
    page = as_user(patient.user).get(SETTINGS_URL).content.decode()
    assert "landline" in page
    assert "you replied STOP" in page


def test_the_page_is_in_russian(patient, as_user):
    client = as_user(patient.user)
    client.cookies["django_language"] = "ru"
    page = client.get(SETTINGS_URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Сообщения" in page


# --- Telegram page --------------------------------------------------------------------------


def test_a_code_is_shown_once_with_the_deep_link(patient, as_user):
    client = as_user(patient.user)
    response = client.post(LINK_URL)
    code = response.context["code"]
    page = response.content.decode()
    assert f"https://t.me/medfront_test_bot?start={code}" in page
    assert MessengerLinkCode.objects.get(patient=patient).code_digest != code
    assert code not in client.get(LINK_URL).content.decode()


def test_without_a_bot_name_the_code_is_shown_with_the_command(patient, as_user, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    response = as_user(patient.user).post(LINK_URL)
    assert f"/start {response.context['code']}" in response.content.decode()
    assert "t.me" not in response.content.decode()


def test_the_patient_unlinks_their_own_chat_only(patient, other_patient, as_user):
    link(patient)
    link(other_patient, chat="999")
    client = as_user(patient.user)
    assert "A chat is linked" in client.get(LINK_URL).content.decode()
    assert client.post(UNLINK_URL).status_code == 302
    assert list(MessengerLink.objects.values_list("patient", flat=True)) == [other_patient.pk]
    assert AuditEvent.objects.filter(object_type="portal.messenger_link").exists()
    # Nothing left to unlink: said, not an error.
    response = client.post(UNLINK_URL, follow=True)
    assert "No Telegram chat was linked" in response.content.decode()


# --- A dependant's settings, from the family page -----------------------------------------------


def dependant_url(person):
    return reverse("portal:dependant_notifications", args=[person.public_id])


def test_a_guardian_sets_their_dependants_message_settings(patient, dependant, as_user):
    client = as_user(patient.user)
    family_page = client.get(reverse("portal:dependant", args=[dependant.public_id]))
    assert dependant_url(dependant) in family_page.content.decode()
    page = client.get(dependant_url(dependant))
    assert page.status_code == 200
    body = page.content.decode()
    assert dependant.short_name in body and LINK_URL not in body  # their chat is theirs to link
    response = client.post(dependant_url(dependant), {"email_care": "on"})
    assert response.status_code == 302 and response["Location"] == dependant_url(dependant)
    prefs = {p.channel: p.care for p in ContactPreference.objects.filter(patient=dependant)}
    assert prefs == {"sms": False, "email": True, "messenger": False}
    assert not ContactPreference.objects.filter(patient=patient).exists()
    event = AuditEvent.objects.filter(object_type="portal.contact_preference").latest("pk")
    assert event.actor_id == patient.user.pk


def test_another_patients_or_an_unknown_id_is_404_and_changes_nothing(
    patient, dependant, other_patient, as_user
):
    client = as_user(other_patient.user)
    assert client.get(dependant_url(dependant)).status_code == 404
    assert client.post(dependant_url(dependant), {"email_care": "on"}).status_code == 404
    assert client.get(dependant_url(other_patient)).status_code == 404  # oneself is no dependant
    assert not ContactPreference.objects.filter(patient=dependant).exists()


@pytest.mark.parametrize("persona", ["registrar_a", "director", "network_admin"])
def test_staff_cannot_set_a_dependants_settings(persona, request, dependant, as_user):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(dependant_url(dependant)).status_code == 403


def test_anonymous_visitors_go_to_sign_in_for_a_dependant(dependant):
    response = Client().get(dependant_url(dependant))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_dependant_without_a_phone_shows_the_guardians_that_carries_their_messages(
    patient, dependant, as_user
):
    dependant.phone = ""
    dependant.save()
    body = as_user(patient.user).get(dependant_url(dependant)).content.decode()
    assert "has none of their own, so these messages come to you" in body
    assert "No phone in the profile" not in body
