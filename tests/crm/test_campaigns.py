"""Campaigns: only consenting patients who have not stopped the channel, in contact hours, in
the bulk lane; results counted from the bookings that followed; who may send them."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.errors import LeadInvalid
from crm.models import Campaign, CampaignRecipient
from crm.selectors.campaigns import campaign_results
from crm.selectors.segments import segment_count
from crm.services.activity import activity_rebuild
from crm.services.campaigns import campaign_create, campaign_send, campaign_start
from crm.services.segments import segment_create
from notifications.inbound import inbound_receive
from notifications.models import OutboxMessage
from portal.choices import ConsentPurpose, Role
from portal.models import Consent, ConsentDocument
from scheduling.models import Appointment
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, make_staff

pytestmark = pytest.mark.django_db


def consent(patient):
    document, _ = ConsentDocument.objects.get_or_create(
        purpose=ConsentPurpose.ADVERTISING,
        version="1",
        defaults={"title": "Реклама", "body": "Текст", "published_at": timezone.now()},
    )
    Consent.objects.create(
        patient=patient,
        purpose=ConsentPurpose.ADVERTISING,
        document=document,
        document_version="1",
        document_sha256=document.sha256,
        signer_kind="patient",
        channel="web",
        signature_method="click",
        signed_at=timezone.now(),
    )


@pytest.fixture
def people():
    agreed, stopped, silent = PatientFactory(), PatientFactory(), PatientFactory()
    consent(agreed)
    consent(stopped)
    inbound_receive(
        provider="twilio", channel="sms", external_id="SM-stop", sender=stopped.phone, text="СТОП"
    )
    return {"agreed": agreed, "stopped": stopped, "silent": silent}


@pytest.fixture
def campaign(people, marketer):
    segment = segment_create(name="Все", rules={}, actor=marketer)
    return campaign_create(
        name="Осенний check-up", segment=segment, channel="sms", text="Скидка 10%", actor=marketer
    )


def test_only_consenting_patients_who_did_not_stop_get_it(campaign, people, marketer):
    with_capture = campaign_start(campaign=campaign, actor=marketer)
    assert with_capture.status == "sending"
    sent = campaign_send(campaign_id=campaign.pk)
    assert sent.status == "sent" and sent.recipients == 1 and sent.skipped == 1
    (recipient,) = CampaignRecipient.objects.filter(campaign=campaign)
    assert recipient.patient == people["agreed"]
    message = recipient.message
    assert message.event == "campaign.message" and message.lane == "bulk"
    assert "СТОП" in message.context["text"] or "STOP" in message.context["text"]
    # Sent once: a second run finds nothing to do.
    assert campaign_send(campaign_id=campaign.pk) is None
    with pytest.raises(LeadInvalid):
        campaign_start(campaign=campaign, actor=marketer)


def test_a_campaign_checks_the_consent_itself_when_it_sends(people, marketer):
    segment = segment_create(name="Согласны", rules={"marketing_consent": True}, actor=marketer)
    campaign = campaign_create(
        name="Весна", segment=segment, channel="sms", text="Скидка 5%", actor=marketer
    )
    activity_rebuild(now=timezone.now() + datetime.timedelta(minutes=10))
    # Withdrawn around the consents service: the facts behind the count still say yes...
    Consent.objects.filter(patient=people["agreed"]).update(withdrawn_at=timezone.now())
    assert segment_count(rules=segment.rules) == 2
    # ...but the send reads the consents themselves: nobody left to write to.
    campaign_start(campaign=campaign, actor=marketer)
    sent = campaign_send(campaign_id=campaign.pk)
    assert sent.recipients == 0 and sent.skipped == 1
    assert not CampaignRecipient.objects.filter(campaign=campaign).exists()


def test_a_clinic_campaign_waits_for_contact_hours(people, marketer, clinic_a):
    visit_clinic = clinic_a
    service = ServiceFactory()
    now = timezone.now()
    Appointment.objects.create(
        patient=people["agreed"],
        doctor=DoctorFactory(services=[service], clinics=[visit_clinic]),
        clinic=visit_clinic,
        service=service,
        starts_at=now - datetime.timedelta(days=100),
        ends_at=now - datetime.timedelta(days=100) + datetime.timedelta(minutes=30),
        status="completed",
        channel="online",
        price=Decimal("1000"),
        created_at=now,
        updated_at=now,
    )
    segment = segment_create(name="Центр", rules={}, clinic=clinic_a, actor=marketer)
    found = campaign_create(
        name="Ночь", segment=segment, channel="email", text="Привет", actor=marketer
    )
    campaign_start(campaign=found, actor=marketer)
    # 23:30 in Irkutsk: outside 08:00–20:00, so the message is due at 08:00 there.
    night = datetime.datetime(2027, 3, 2, 23, 30, tzinfo=clinic_a.tz)
    campaign_send(campaign_id=found.pk, now=night)
    message = OutboxMessage.objects.get(event="campaign.message")
    assert message.due_at == datetime.datetime(2027, 3, 3, 8, 0, tzinfo=clinic_a.tz)
    assert message.clinic_id == clinic_a.pk


def test_results_count_bookings_within_the_window(campaign, people, marketer, clinic_a):
    assert campaign_results(campaign=campaign) is None
    campaign_start(campaign=campaign, actor=marketer)
    sent = campaign_send(campaign_id=campaign.pk)
    service = ServiceFactory()
    for status, days, patient in (
        ("completed", 2, people["agreed"]),
        ("booked", 30, people["agreed"]),
        ("completed", 2, people["silent"]),
    ):
        at = sent.sent_at + datetime.timedelta(days=days)
        Appointment.objects.create(
            patient=patient,
            doctor=DoctorFactory(services=[service], clinics=[clinic_a]),
            clinic=clinic_a,
            service=service,
            starts_at=at,
            ends_at=at + datetime.timedelta(minutes=30),
            status=status,
            channel="online",
            price=Decimal("2500"),
            created_at=at,
            updated_at=at,
        )
    results = campaign_results(campaign=sent)
    assert (results.queued, results.booked, results.attended, results.revenue) == (
        1,
        1,
        1,
        Decimal("2500"),
    )


def test_bad_campaigns_are_refused(people, marketer):
    segment = segment_create(name="Все", rules={}, actor=marketer)
    for bad in (
        {"name": ""},
        {"text": ""},
        {"text": "x" * 1001},
        {"channel": "fax"},
        {"subject": "x" * 151},
        {"booking_window_days": 0},
    ):
        values = {"name": "К", "segment": segment, "channel": "sms", "text": "Т", **bad}
        with pytest.raises(LeadInvalid):
            campaign_create(actor=marketer, **values)
    assert not Campaign.objects.exists()


def test_the_pages(campaign, people, marketer, django_capture_on_commit_callbacks):
    client = client_for(marketer)
    assert "Осенний check-up" in client.get(reverse("crm:campaigns")).text
    page = client.get(reverse("crm:campaign", args=[campaign.pk]))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("crm:campaign_send", args=[campaign.pk]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "sent" and campaign.recipients == 1
    again = client.post(reverse("crm:campaign_send", args=[campaign.pk]), follow=True)
    assert "уже" in again.text
    created = client.post(
        reverse("crm:campaigns"),
        {
            "name": "Новая",
            "segment": campaign.segment.pk,
            "channel": "email",
            "text": "Т",
            "booking_window_days": 14,
        },
    )
    assert created.status_code == 302
    bad = client.post(reverse("crm:campaigns"), {"name": "", "channel": "sms"})
    assert bad.status_code == 400


def test_other_roles_and_clinics_are_refused(campaign, clinic_b, registrar_a, director):
    for user in (registrar_a, director):
        client = client_for(user)
        assert client.get(reverse("crm:campaigns")).status_code == 403
        assert client.post(reverse("crm:campaign_send", args=[campaign.pk])).status_code == 403
    scoped = client_for(make_staff(Role.MARKETER, clinic_b, email="mb@example.test"))
    assert scoped.get(reverse("crm:campaign", args=[campaign.pk])).status_code == 404
    assert scoped.post(reverse("crm:campaign_send", args=[campaign.pk])).status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_an_age_band_campaign_reaches_only_the_band(marketer):
    today = timezone.localdate()
    young = PatientFactory(birth_date=datetime.date(today.year - 20, 3, 1))
    middle = PatientFactory(birth_date=datetime.date(today.year - 40, 3, 1))
    for patient in (young, middle):
        consent(patient)
    segment = segment_create(name="30–50", rules={"age_from": 30, "age_to": 50}, actor=marketer)
    campaign = campaign_create(
        name="Осмотр 30+", segment=segment, channel="sms", text="Приглашаем", actor=marketer
    )
    campaign_start(campaign=campaign, actor=marketer)
    sent = campaign_send(campaign_id=campaign.pk)
    assert sent.recipients == 1
    assert CampaignRecipient.objects.get(campaign=campaign).patient == middle
