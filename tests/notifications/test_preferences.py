"""The outbox honours the patient's message settings and consents: care and marketing per
channel, STOP, landlines; service messages (codes, replies) always go."""

import pytest
from django.utils import timezone

from notifications.services import NoAddress, NotWanted, message_kind, outbox_enqueue
from portal.choices import ConsentPurpose
from portal.consent_texts import ensure_consent_documents
from portal.models import Consent, ContactPreference
from portal.selectors.consents import current_document
from portal.services.contact import contact_channel_stop, contact_preferences_set
from tests.factories import PatientWithLoginFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(db):
    return PatientWithLoginFactory(phone="+79991234567", email="anna@example.test")


def enqueue(patient, event, channel):
    return outbox_enqueue(event=event, channel=channel, patient=patient, context={})


def advertising_consent(patient):
    ensure_consent_documents()
    document = current_document(purpose=ConsentPurpose.ADVERTISING, language="ru")
    Consent.objects.create(
        patient=patient,
        purpose=ConsentPurpose.ADVERTISING,
        document=document,
        document_version=document.version,
        document_sha256=document.sha256,
        signer_kind="patient",
        channel="web",
        signature_method="account",
        signed_at=timezone.now(),
    )


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("appointment.booked", "care"),
        ("appointment.reminder", "care"),
        ("waitlist.offer", "care"),
        ("payment.received", "care"),
        ("campaign.spring", "marketing"),
        ("auth.login_code", None),
        ("consent.sign_code", None),
        ("inbound.help", None),
        ("messenger.linked", None),
    ],
)
def test_events_have_a_kind(event, kind):
    assert message_kind(event) == kind


def test_care_goes_by_default_and_not_on_a_channel_turned_off(anna):
    assert enqueue(anna, "appointment.booked", "sms").to_address == anna.phone
    contact_preferences_set(actor=None, patient=anna, choices={("sms", "care"): False})
    with pytest.raises(NotWanted):
        enqueue(anna, "appointment.booked", "sms")
    assert enqueue(anna, "appointment.booked", "email").channel == "email"


def test_not_wanted_is_a_no_address_so_callers_skip_the_channel(anna):
    contact_preferences_set(actor=None, patient=anna, choices={("email", "care"): False})
    with pytest.raises(NoAddress):
        enqueue(anna, "appointment.cancelled", "email")


def test_marketing_needs_the_advertising_consent_and_the_switch(anna):
    with pytest.raises(NotWanted):
        enqueue(anna, "campaign.spring", "email")
    advertising_consent(anna)
    assert enqueue(anna, "campaign.spring", "email")
    contact_preferences_set(actor=None, patient=anna, choices={("email", "marketing"): False})
    with pytest.raises(NotWanted):
        enqueue(anna, "campaign.spring", "email")
    # Turning marketing off leaves visit messages on.
    assert enqueue(anna, "appointment.booked", "email")


def test_stop_stops_both_kinds_until_a_switch_is_turned_on_again(anna):
    advertising_consent(anna)
    contact_channel_stop(patients=[anna], channel="sms")
    for event in ("appointment.reminder", "campaign.spring"):
        with pytest.raises(NotWanted):
            enqueue(anna, event, "sms")
    contact_preferences_set(actor=None, patient=anna, choices={("sms", "care"): True})
    assert ContactPreference.objects.get(channel="sms").stopped_at is None
    assert enqueue(anna, "appointment.reminder", "sms")


def test_service_messages_go_whatever_the_settings(anna):
    contact_channel_stop(patients=[anna], channel="sms")
    contact_preferences_set(actor=None, patient=anna, choices={("sms", "care"): False})
    assert enqueue(anna, "auth.login_code", "sms")
    assert enqueue(anna, "inbound.stopped", "sms")


def test_no_sms_to_a_landline_but_service_codes_still_go(anna):
    anna.phone = "+74952000000"  # a Moscow landline
    anna.save()
    with pytest.raises(NotWanted):
        enqueue(anna, "appointment.booked", "sms")
    assert enqueue(anna, "auth.verify_phone", "sms")


def test_messages_to_an_address_without_a_patient_are_not_checked(db):
    assert outbox_enqueue(event="test.sms", channel="sms", to="+79990000000", context={})


def test_the_messenger_needs_a_linked_chat(anna):
    with pytest.raises(NoAddress):
        enqueue(anna, "appointment.booked", "messenger")


def test_unknown_channels_and_kinds_are_refused(anna):
    with pytest.raises(ValueError, match="kind"):
        contact_preferences_set(actor=None, patient=anna, choices={("sms", "urgent"): True})
    with pytest.raises(ValueError, match="channel"):
        contact_channel_stop(patients=[anna], channel="fax")
