"""Segments: each rule on a fixed set of patients, live counts, and who may use the pages."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.errors import LeadInvalid
from crm.models import Segment
from crm.selectors.segments import segment_count, segments_for_user
from crm.services.segments import segment_create, segment_rules_clean
from portal.choices import ConsentPurpose, Role
from portal.models import Consent, ConsentDocument
from scheduling.models import Appointment
from tests.conftest import client_for
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SpecialtyFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db


def visit(patient, clinic, service, *, days_ago, status="completed", price="1000"):
    start = timezone.now() - datetime.timedelta(days=days_ago)
    return Appointment.objects.create(
        patient=patient,
        doctor=DoctorFactory(services=[service], clinics=[clinic]),
        clinic=clinic,
        service=service,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
        status=status,
        channel="online",
        price=Decimal(price),
        created_at=start,
        updated_at=start,
    )


@pytest.fixture
def people(clinic_a, clinic_b):
    cardio = SpecialtyFactory(name="Кардиолог")
    heart = ServiceFactory(specialty=cardio)
    other = ServiceFactory()
    lapsed = PatientFactory()  # A cardiology visit 200 days ago, 5 000 ₽, consents to ads.
    visit(lapsed, clinic_a, heart, days_ago=200, price="5000")
    document = ConsentDocument.objects.create(
        purpose=ConsentPurpose.ADVERTISING,
        version="1",
        title="Реклама",
        body="Текст",
        published_at=timezone.now(),
    )
    Consent.objects.create(
        patient=lapsed,
        purpose=ConsentPurpose.ADVERTISING,
        document=document,
        document_version="1",
        document_sha256=document.sha256,
        signer_kind="patient",
        channel="web",
        signature_method="click",
        signed_at=timezone.now(),
    )
    recent = PatientFactory()  # A visit last week, and two no-shows, in clinic B.
    visit(recent, clinic_b, other, days_ago=7)
    visit(recent, clinic_b, other, days_ago=30, status="no_show")
    visit(recent, clinic_b, other, days_ago=60, status="no_show")
    PatientFactory()  # Never came.
    gone = PatientFactory(anonymised_at=timezone.now())
    visit(gone, clinic_a, heart, days_ago=300)
    return {"cardio": cardio, "lapsed": lapsed, "recent": recent}


def test_each_rule(people, clinic_a, clinic_b):
    assert segment_count(rules={}) == 3
    assert segment_count(rules={"inactive_days": 90}) == 1
    assert segment_count(rules={"specialty_id": people["cardio"].pk}) == 1
    assert segment_count(rules={"min_no_shows": 2}) == 1
    assert segment_count(rules={"min_no_shows": 3}) == 0
    assert segment_count(rules={"min_spend": "4000"}) == 1
    assert segment_count(rules={"marketing_consent": True}) == 1
    assert segment_count(rules={}, clinic=clinic_a) == 1
    assert segment_count(rules={"min_no_shows": 1}, clinic=clinic_a) == 0
    assert segment_count(rules={"inactive_days": 90, "marketing_consent": True}) == 1


def test_rules_are_cleaned(people):
    assert segment_rules_clean({"inactive_days": "90", "junk": 1, "min_spend": "10"}) == {
        "inactive_days": 90,
        "min_spend": "10.00",
    }
    for bad in (
        {"inactive_days": 0},
        {"specialty_id": 999999},
        {"min_no_shows": "x"},
        {"min_spend": "-1"},
    ):
        with pytest.raises(LeadInvalid):
            segment_rules_clean(bad)
    with pytest.raises(LeadInvalid):
        segment_create(name=" ", rules={}, actor=None)


def test_counts_are_live(people, marketer):
    segment = segment_create(name="Давно не были", rules={"inactive_days": 90}, actor=marketer)
    assert segments_for_user(user=marketer) == [(segment, 1)]
    visit(
        people["recent"],
        people["lapsed"].appointments.first().clinic,
        ServiceFactory(),
        days_ago=100,
    )
    Appointment.objects.filter(
        patient=people["recent"],
        status="completed",
        starts_at__gte=timezone.now() - datetime.timedelta(days=10),
    ).delete()
    assert segments_for_user(user=marketer) == [(segment, 2)]


def test_the_pages(people, marketer, clinic_a):
    client = client_for(marketer)
    response = client.post(
        reverse("crm:segments"),
        {"name": "Кардио", "specialty_id": people["cardio"].pk, "marketing_consent": "on"},
    )
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.rules == {"specialty_id": people["cardio"].pk, "marketing_consent": True}
    listing = client.get(reverse("crm:segments"))
    assert "Кардио" in listing.text
    # A segment has a title, not a person's full name.
    assert "Название" in listing.text and "ФИО" not in listing.text
    preview = client.get(reverse("crm:segment_preview"), {"min_no_shows": "2"})
    assert "1" in preview.text
    bad_preview = client.get(reverse("crm:segment_preview"), {"min_no_shows": "-3"})
    assert bad_preview.status_code == 200 and "segment-count" in bad_preview.text
    bad = client.post(reverse("crm:segments"), {"name": "", "min_spend": "5"})
    assert bad.status_code == 400 and Segment.objects.count() == 1
    assert client.post(reverse("crm:segment_remove", args=[segment.pk])).status_code == 302
    assert not Segment.objects.exists()


def test_a_clinic_marketer_cannot_touch_network_segments(people, marketer, clinic_b):
    segment = segment_create(name="Вся сеть", rules={}, actor=marketer)
    scoped = client_for(make_staff(Role.MARKETER, clinic_b, email="mb@example.test"))
    assert "Вся сеть" not in scoped.get(reverse("crm:segments")).text
    assert scoped.post(reverse("crm:segment_remove", args=[segment.pk])).status_code == 404
    assert Segment.objects.exists()


@pytest.mark.parametrize("persona", ["registrar_a", "clinic_admin_a", "director"])
def test_other_roles_are_refused(request, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("crm:segments")).status_code == 403
    assert client.get(reverse("crm:segment_preview")).status_code == 403
