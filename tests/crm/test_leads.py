"""Leads: recording, the repeat window, linking to patients, the pipeline and the loop."""

import datetime

import pytest
from django.utils import timezone

from crm.choices import LeadEventKind, LeadSource, StageKind
from crm.errors import LeadInvalid
from crm.models import Lead, LeadEvent, PipelineStage
from crm.services.leads import (
    MAX_COMMENT,
    MAX_NAME,
    REPEAT_WINDOW,
    lead_add_note,
    lead_assign,
    lead_create,
    lead_set_stage,
    leads_escalate_overdue,
    pipeline_of,
)
from crm.services.loop import leads_close_loop
from crm.tasks import follow_leads
from portal.models import AuditEvent
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    make_weekly_schedule,
)

pytestmark = pytest.mark.django_db
PHONE = "+7 914 555-12-34"


def create(**changes):
    values = {"source": LeadSource.WEB_FORM, "actor": None, "name": "Анна", "phone": PHONE}
    values.update(changes)
    return lead_create(**values)


def test_a_lead_keeps_its_contacts_encrypted_and_its_first_touch(clinic_a):
    lead, created = create(
        clinic=clinic_a,
        email="Anna@Example.test",
        attribution={"utm_source": "yandex", "yclid": "123", "unknown": "x", "utm_term": "t" * 999},
    )
    assert created
    lead.refresh_from_db()
    assert lead.phone == "+79145551234"
    assert lead.email == "anna@example.test"
    assert lead.phone_bidx and lead.email_bidx
    assert lead.utm_source == "yandex" and lead.yclid == "123"
    assert len(lead.utm_term) == 150
    assert lead.stage.code == "new"
    assert lead.first_contact_due_at == lead.created_at + datetime.timedelta(minutes=15)
    assert [e.kind for e in lead.events.all()] == [LeadEventKind.CREATED]
    assert AuditEvent.objects.filter(object_type="crm.lead", action="create").count() == 1


def test_the_same_person_within_the_window_comes_back_to_their_lead(clinic_a):
    first, _ = create(clinic=clinic_a)
    again, created = create(phone="8 914 555 12 34", comment="ещё раз", clinic=clinic_a)
    assert not created and again.pk == first.pk
    assert LeadEvent.objects.filter(lead=first, kind=LeadEventKind.TOUCH).count() == 1
    later = first.created_at + REPEAT_WINDOW + datetime.timedelta(minutes=1)
    _, created = create(now=later)
    assert created
    assert Lead.objects.count() == 2


def test_a_lead_links_to_the_one_patient_with_that_phone():
    patient = PatientFactory(phone="+79145551234")
    lead, _ = create()
    assert lead.patient == patient
    assert lead.events.filter(kind=LeadEventKind.PATIENT).exists()


def test_two_profiles_with_the_phone_link_neither():
    PatientFactory(phone="+79145551234")
    PatientFactory(phone="+79145551234")
    lead, _ = create()
    assert lead.patient is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "", "email": ""}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"phone": "", "email": "not-an-address"}, "email"),
        ({"name": "x" * (MAX_NAME + 1)}, "name"),
        ({"comment": "x" * (MAX_COMMENT + 1)}, "comment"),
        ({"source": "pigeon"}, "source"),
    ],
)
def test_bad_input_records_nothing(changes, field):
    with pytest.raises(LeadInvalid) as caught:
        create(**changes)
    assert caught.value.field == field
    assert not Lead.objects.exists()


def test_an_empty_pipeline_is_refused_plainly(clinic_a):
    PipelineStage.objects.filter(kind=StageKind.OPEN).delete()
    with pytest.raises(LeadInvalid):
        create(clinic=clinic_a)


def test_a_pipeline_emptied_since_the_migration_gets_its_defaults_back():
    PipelineStage.objects.all().delete()
    lead, _ = create()
    assert lead.stage.code == "new"
    assert PipelineStage.objects.filter(clinic__isnull=True).count() == 4


def test_a_clinic_with_its_own_stages_uses_them(clinic_a, clinic_b):
    own = PipelineStage.objects.create(clinic=clinic_a, name="Заявка", order=1, kind="open")
    assert pipeline_of(clinic_a) == [own]
    assert [s.code for s in pipeline_of(clinic_b)] == ["new", "contacted", "booked", "lost"]
    assert [s.code for s in pipeline_of(None)] == ["new", "contacted", "booked", "lost"]
    lead, _ = create(clinic=clinic_a)
    assert lead.stage == own
    assert str(own) == "Заявка"
    with pytest.raises(LeadInvalid):
        lead_set_stage(lead=lead, stage=PipelineStage.objects.get(code="lost"), actor=None)


def test_stages_close_and_reopen(marketer):
    lead, _ = create()
    lost = PipelineStage.objects.get(code="lost", clinic=None)
    new = PipelineStage.objects.get(code="new", clinic=None)
    lead = lead_set_stage(lead=lead, stage=lost, actor=marketer)
    assert lead.closed_at is not None
    assert lead_set_stage(lead=lead, stage=lost, actor=marketer).closed_at == lead.closed_at
    lead = lead_set_stage(lead=lead, stage=new, actor=marketer)
    assert lead.closed_at is None
    assert lead.events.filter(kind=LeadEventKind.STAGE).count() == 2


def test_owner_notes_and_first_contact(marketer):
    lead, _ = create()
    lead = lead_assign(lead=lead, owner=marketer, actor=marketer)
    assert lead.owner == marketer
    lead_assign(lead=lead, owner=marketer, actor=marketer)
    assert lead.events.filter(kind=LeadEventKind.OWNER).count() == 1
    with pytest.raises(LeadInvalid):
        lead_add_note(lead=lead, note="  ", actor=marketer)
    with pytest.raises(LeadInvalid):
        lead_add_note(lead=lead, note="x" * (MAX_COMMENT + 1), actor=marketer)
    lead = lead_add_note(lead=lead, note="", contacted=True, actor=marketer)
    assert lead.first_contacted_at is not None
    # Once contacted, "contacted" is just a note, and an empty one is refused.
    with pytest.raises(LeadInvalid):
        lead_add_note(lead=lead, note="", contacted=True, actor=marketer)
    lead_add_note(lead=lead, note="Перезвонить в пятницу", contacted=True, actor=marketer)
    kinds = list(lead.events.values_list("kind", flat=True))
    assert kinds.count(LeadEventKind.CONTACTED) == 1
    assert kinds.count(LeadEventKind.NOTE) == 1


def test_overdue_leads_are_escalated_once(marketer):
    lead, _ = create()
    contacted, _ = create(phone="+79145550000")
    lead_add_note(lead=contacted, note="", contacted=True, actor=marketer)
    later = timezone.now() + datetime.timedelta(minutes=16)
    assert leads_escalate_overdue(now=later) == 1
    assert leads_escalate_overdue(now=later) == 0
    lead.refresh_from_db()
    assert lead.escalated_at == later


def book_next_week(patient, clinic):
    service = ServiceFactory()
    doctor = DoctorFactory(services=[service], clinics=[clinic])
    make_weekly_schedule(doctor, clinic)
    today = timezone.localdate()
    slot = free_slots(
        service=service,
        doctor=doctor,
        start_date=today + datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=8),
    )[0]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=None,
    )


def test_a_booking_by_the_leads_person_closes_the_loop(clinic_a, registrar_a):
    lead, _ = create(clinic=clinic_a)
    nobody, _ = create(phone="+79145550000")
    assert leads_close_loop() == 0
    # The profile appears after the lead (registered at the desk), then books.
    patient = PatientFactory(phone="+79145551234")
    visit = book_next_week(patient, clinic_a)
    assert follow_leads() == {"escalated": 0, "booked": 1}
    lead.refresh_from_db()
    assert lead.patient == patient
    assert lead.booked_appointment == visit
    assert lead.stage.kind == StageKind.WON and lead.closed_at is not None
    assert lead.events.filter(kind=LeadEventKind.BOOKED).exists()
    nobody.refresh_from_db()
    assert nobody.booked_appointment is None
    assert leads_close_loop() == 0


def test_a_pipeline_without_a_booked_stage_still_records_the_visit(clinic_a):
    PipelineStage.objects.create(clinic=clinic_a, name="Заявка", order=1, kind="open")
    patient = PatientFactory(phone="+79145551234")
    lead, _ = create(clinic=clinic_a)
    visit = book_next_week(patient, clinic_a)
    assert leads_close_loop() == 1
    lead.refresh_from_db()
    assert lead.booked_appointment == visit
    assert lead.closed_at is None
