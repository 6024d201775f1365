"""The lead pages and the public website form, for allowed and refused users."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from crm.choices import LeadSource
from crm.models import Lead, PipelineStage
from crm.services.leads import lead_create
from portal.choices import Role
from portal.models import AuditEvent
from tests.conftest import client_for
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def make_lead(clinic=None, phone="+79145551234"):
    lead, _ = lead_create(
        source=LeadSource.CALL, actor=None, clinic=clinic, name="Пётр Лидов", phone=phone
    )
    return lead


def test_the_form_records_a_lead_with_its_first_touch(clinic_a):
    page = Client().get(reverse("crm:lead_form") + "?utm_source=vk&yclid=77&clinic=irkutsk-centre")
    assert page.status_code == 200
    assert "frame-ancestors https:" in page["Content-Security-Policy"]
    assert "X-Frame-Options" not in page
    body = page.content.decode()
    assert 'value="vk"' in body and 'value="77"' in body
    response = Client(enforce_csrf_checks=True).post(
        reverse("crm:lead_form"),
        {
            "name": "Анна",
            "phone": "8 914 555 12 34",
            "utm_source": "vk",
            "clinic": "irkutsk-centre",
        },
    )
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert lead.clinic == clinic_a and lead.utm_source == "vk"
    assert lead.source == LeadSource.WEB_FORM


def test_the_form_explains_bad_input_and_records_nothing():
    response = Client().post(reverse("crm:lead_form"), {"name": "Анна", "phone": "12"})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    response = Client().post(reverse("crm:lead_form"), {"name": "x" * 500})
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_a_robot_filling_the_honeypot_is_thanked_and_ignored():
    response = Client().post(
        reverse("crm:lead_form"), {"phone": "+79145551234", "website": "http://spam"}
    )
    assert response.status_code == 200
    assert not Lead.objects.exists()


def test_the_form_is_rate_limited_per_address(settings):
    settings.CRM_FORM_LIMIT_PER_HOUR = 2
    client = Client()
    for number in ("+79145550001", "+79145550002"):
        assert client.post(reverse("crm:lead_form"), {"phone": number}).status_code == 200
    response = client.post(reverse("crm:lead_form"), {"phone": "+79145550003"})
    assert response.status_code == 429
    assert Lead.objects.count() == 2


def test_the_embed_script_points_at_the_form():
    response = Client().get(reverse("crm:embed_script"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert reverse("crm:lead_form") in response.content.decode()


def test_the_marketer_lists_and_opens_leads(marketer, clinic_a):
    lead = make_lead(clinic_a)
    client = client_for(marketer)
    listing = client.get(reverse("crm:leads"))
    assert listing.status_code == 200
    assert "Пётр Лидов" in listing.content.decode()
    card = client.get(reverse("crm:lead", args=[lead.public_id]))
    assert card.status_code == 200
    assert "+7 914 555-12-34" in card.content.decode()
    assert AuditEvent.objects.filter(object_type="crm.lead", action="view").count() == 1


def test_list_filters(marketer):
    make_lead()
    client = client_for(marketer)
    lost = PipelineStage.objects.get(code="lost", clinic=None)
    assert "Пётр Лидов" not in client.get(f"{reverse('crm:leads')}?stage={lost.pk}").text
    assert "Пётр Лидов" in client.get(f"{reverse('crm:leads')}?stage=all&source=call").text
    assert "Пётр Лидов" not in client.get(f"{reverse('crm:leads')}?stage=all&mine=1").text


def test_the_marketer_records_a_lead_by_hand(marketer, clinic_a):
    client = client_for(marketer)
    response = client.post(
        reverse("crm:leads"),
        {"source": "walk_in", "clinic": clinic_a.pk, "name": "Ольга", "phone": "+79145550009"},
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:lead", args=[lead.public_id])
    again = client.post(reverse("crm:leads"), {"source": "call", "phone": "+79145550009"})
    assert again.status_code == 302
    assert Lead.objects.count() == 1
    bad = client.post(reverse("crm:leads"), {"source": "call", "phone": "nope"})
    assert bad.status_code == 400
    assert Lead.objects.count() == 1


def test_card_actions(marketer):
    lead = make_lead()
    client = client_for(marketer)
    contacted = PipelineStage.objects.get(code="contacted", clinic=None)
    url = lambda action: reverse("crm:lead_action", args=[lead.public_id, action])  # noqa: E731
    assert client.post(url("stage"), {"stage": contacted.pk}).status_code == 302
    assert client.post(url("take")).status_code == 302
    assert client.post(url("note"), {"note": "Звонил", "contacted": "on"}).status_code == 302
    lead.refresh_from_db()
    assert lead.stage == contacted and lead.owner == marketer and lead.first_contacted_at
    # Bad input: a message, nothing changed.
    response = client.post(url("stage"), {"stage": "999999"}, follow=True)
    assert "Выберите этап" in response.text
    response = client.post(url("note"), {"note": "x" * 5000}, follow=True)
    assert "Сократите заметку" in response.text
    assert client.post(url("fly")).status_code == 404
    lead.refresh_from_db()
    assert lead.stage == contacted


@pytest.mark.parametrize(
    "persona", ["registrar_a", "head_nurse_a", "doctor_a", "clinic_admin_a", "director"]
)
def test_other_roles_are_refused(request, persona):
    lead = make_lead()
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("crm:leads")).status_code == 403
    assert client.get(reverse("crm:lead", args=[lead.public_id])).status_code == 403
    response = client.post(reverse("crm:lead_action", args=[lead.public_id, "take"]))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.owner is None


def test_a_patient_and_anonymous_are_refused(patient):
    lead = make_lead()
    assert client_for(patient.user).get(reverse("crm:leads")).status_code == 403
    response = Client().get(reverse("crm:lead", args=[lead.public_id]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_clinic_marketer_sees_only_their_clinics_leads(clinic_a, clinic_b):
    mine = make_lead(clinic_b, phone="+79145550001")
    theirs = make_lead(clinic_a, phone="+79145550002")
    unplaced = make_lead(None, phone="+79145550003")
    client = client_for(make_staff(Role.MARKETER, clinic_b, email="mb@example.test"))
    assert client.get(reverse("crm:lead", args=[mine.public_id])).status_code == 200
    for other in (theirs, unplaced):
        assert client.get(reverse("crm:lead", args=[other.public_id])).status_code == 404
        action = reverse("crm:lead_action", args=[other.public_id, "take"])
        assert client.post(action).status_code == 404
    listing = client.get(reverse("crm:leads") + "?stage=all").text
    assert listing.count("/crm/leads/") - listing.count('href="/crm/leads/?') >= 1
    assert str(theirs.public_id) not in listing and str(unplaced.public_id) not in listing


def test_the_stage_button_says_it_changes_the_stage_in_russian(marketer):
    lead = make_lead()
    client = client_for(marketer)
    body = client.get(reverse("crm:lead", args=[lead.public_id]), headers={"Accept-Language": "ru"})
    assert "Сменить этап</button>" in body.content.decode()
    assert "Перенести</button>" not in body.content.decode()
