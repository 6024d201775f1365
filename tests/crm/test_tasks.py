"""Tasks on leads: added on the card, listed for their owner with overdue ones marked, done and
undone, audited; refused to other roles and to another clinic's marketer."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import LeadSource
from crm.errors import LeadInvalid
from crm.models import LeadTask
from crm.services.leads import lead_create
from crm.services.tasks import lead_task_add, lead_task_set_done
from portal.choices import Role
from portal.models import AuditEvent
from tests.conftest import client_for
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def make_lead(clinic=None, phone="+79145557788"):
    lead, _ = lead_create(
        source=LeadSource.CALL, actor=None, clinic=clinic, name="Анна Задачина", phone=phone
    )
    return lead


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def marketer_a(clinic_a):
    return make_staff(Role.MARKETER, clinic_a, email="marketer-a@example.test")


@pytest.fixture
def marketer_b(clinic_b):
    return make_staff(Role.MARKETER, clinic_b, email="marketer-b@example.test")


def test_add_on_the_card_list_and_tick_off(clinic_a, marketer, marketer_a):
    lead = make_lead(clinic_a)
    client = client_for(marketer)
    due = timezone.now() + datetime.timedelta(days=1)
    response = client.post(
        reverse("crm:task_add", args=[lead.public_id]),
        {"text": "Перезвонить о ценах", "due_at": local(due), "owner": marketer_a.pk},
    )
    assert response.status_code == 302
    task = LeadTask.objects.get()
    assert task.owner == marketer_a and task.text == "Перезвонить о ценах"
    assert task.created_by == marketer
    card = client.get(reverse("crm:lead", args=[lead.public_id]))
    assert "Перезвонить о ценах" in card.text
    # The owner sees it in their list; the marketer who set it only under "everyone's".
    owner = client_for(marketer_a)
    assert "Перезвонить о ценах" in owner.get(reverse("crm:tasks")).text
    assert "Перезвонить о ценах" not in client.get(reverse("crm:tasks")).text
    assert "Перезвонить о ценах" in client.get(reverse("crm:tasks"), {"who": "all"}).text
    done = owner.post(reverse("crm:task_done", args=[task.pk]), {"done": "1", "back": "lead"})
    assert done.status_code == 302 and done["Location"].endswith(f"/crm/leads/{lead.public_id}/")
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == marketer_a
    assert "Перезвонить о ценах" not in owner.get(reverse("crm:tasks")).text
    assert "Перезвонить о ценах" in owner.get(reverse("crm:tasks"), {"state": "done"}).text
    owner.post(reverse("crm:task_done", args=[task.pk]), {"done": "0"})
    task.refresh_from_db()
    assert task.done_at is None and task.done_by is None
    events = AuditEvent.objects.filter(object_type="crm.lead_task", object_id=str(task.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update", "update"]
    # The task's text never reaches the audit trail.
    assert not AuditEvent.objects.filter(changed_fields__icontains="Перезвонить").exists()


def test_overdue_tasks_are_marked(clinic_a, marketer):
    lead = make_lead(clinic_a)
    now = timezone.now()
    lead_task_add(
        lead=lead,
        text="Просрочено",
        due_at=now - datetime.timedelta(hours=2),
        owner=marketer,
        actor=marketer,
    )
    lead_task_add(
        lead=lead,
        text="Завтра",
        due_at=now + datetime.timedelta(days=1),
        owner=marketer,
        actor=marketer,
    )
    page = client_for(marketer).get(reverse("crm:tasks")).text
    assert page.index("Просрочено") < page.index("Завтра")
    assert page.count('class="is-overdue"') == 1
    card = client_for(marketer).get(reverse("crm:lead", args=[lead.public_id])).text
    assert card.count('class="is-overdue"') == 1


def test_bad_input_changes_nothing(clinic_a, marketer, marketer_b):
    lead = make_lead(clinic_a)
    client = client_for(marketer)
    url = reverse("crm:task_add", args=[lead.public_id])
    due = local(timezone.now() + datetime.timedelta(hours=3))
    for data in (
        {"text": "", "due_at": due, "owner": marketer.pk},
        {"text": "x" * 201, "due_at": due, "owner": marketer.pk},
        {"text": "Позвонить", "due_at": "завтра", "owner": marketer.pk},
        {"text": "Позвонить", "due_at": due, "owner": marketer_b.pk},  # not this clinic's
        {
            "text": "Позвонить",
            "due_at": local(timezone.now() + datetime.timedelta(days=800)),
            "owner": marketer.pk,
        },
    ):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"], data
    assert not LeadTask.objects.exists()
    with pytest.raises(LeadInvalid):
        lead_task_add(
            lead=make_lead(None, phone="+79145550000"),
            text="Позвонить",
            due_at=timezone.now(),
            owner=make_staff(Role.MARKETER, clinic_a, email="m-a2@example.test"),
            actor=marketer,
        )


def test_another_clinic_and_other_roles_are_refused(
    clinic_a, marketer, marketer_a, marketer_b, registrar_a, director
):
    lead = make_lead(clinic_a)
    task = lead_task_add(
        lead=lead, text="Позвонить", due_at=timezone.now(), owner=marketer_a, actor=marketer
    )
    other = client_for(marketer_b)
    assert other.post(reverse("crm:task_done", args=[task.pk]), {"done": "1"}).status_code == 404
    response = other.post(
        reverse("crm:task_add", args=[lead.public_id]),
        {"text": "Чужое", "due_at": local(timezone.now()), "owner": marketer_b.pk},
    )
    assert response.status_code == 404
    assert "Позвонить" not in other.get(reverse("crm:tasks"), {"who": "all"}).text
    for persona in (registrar_a, director):
        client = client_for(persona)
        assert client.get(reverse("crm:tasks")).status_code == 403
        assert (
            client.post(reverse("crm:task_done", args=[task.pk]), {"done": "1"}).status_code == 403
        )
    task.refresh_from_db()
    assert task.done_at is None and LeadTask.objects.count() == 1
    # The clinic's own marketer may tick it off.
    lead_task_set_done(task=task, done=True, actor=marketer_a)
    assert (
        client_for(marketer_a)
        .post(reverse("crm:task_done", args=[task.pk]), {"done": "0"})
        .status_code
        == 302
    )
