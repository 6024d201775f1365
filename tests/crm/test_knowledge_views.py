"""The knowledge-base pages: clinic admins keep their clinic's articles, network admins all;
other roles, other clinics and anonymous visitors are refused; published articles are public."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import KnowledgeArticle
from portal.choices import Role
from tests.conftest import client_for
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def _article(clinic=None, **fields):
    defaults = {"title": "Парковка", "body": "Во дворе.", "language": "ru", "kind": "faq"}
    return KnowledgeArticle.objects.create(clinic=clinic, **{**defaults, **fields})


def _post(clinic, **fields):
    data = {"title": "Парковка", "kind": "directions", "language": "ru", "body": "Во дворе."}
    data.update({"clinic": clinic.pk if clinic else ""}, **fields)
    return {k: v for k, v in data.items() if v is not None}


def test_a_clinic_admin_writes_an_article_for_their_clinic(clinic_a, clinic_admin_a):
    client = client_for(clinic_admin_a)
    response = client.post(reverse("crm:knowledge"), _post(clinic_a, published="on"))
    article = KnowledgeArticle.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("crm:knowledge_article", args=[article.public_id])
    assert (article.clinic, article.published, article.kind) == (clinic_a, True, "directions")
    page = client.get(reverse("crm:knowledge"))
    assert page.status_code == 200
    assert "Парковка" in page.text


def test_a_clinic_admin_cannot_write_for_another_clinic_or_the_network(
    clinic_a, clinic_b, clinic_admin_a
):
    client = client_for(clinic_admin_a)
    for clinic in (clinic_b, None):
        response = client.post(reverse("crm:knowledge"), _post(clinic))
        assert response.status_code == 400
    assert not KnowledgeArticle.objects.exists()


def test_bad_input_is_a_clear_error_and_changes_nothing(clinic_a, clinic_admin_a):
    response = client_for(clinic_admin_a).post(
        reverse("crm:knowledge"), _post(clinic_a, title="", kind="spam")
    )
    assert response.status_code == 400
    assert "Обязательное поле." in response.text
    assert not KnowledgeArticle.objects.exists()


def test_a_clinic_admin_edits_and_deletes_their_clinics_article(clinic_a, clinic_admin_a):
    article = _article(clinic_a)
    client = client_for(clinic_admin_a)
    url = reverse("crm:knowledge_article", args=[article.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, _post(clinic_a, title="Парковка и въезд"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Парковка и въезд"
    assert article.published is False  # an unticked box
    response = client.post(reverse("crm:knowledge_delete", args=[article.public_id]))
    assert response.status_code == 302
    assert not KnowledgeArticle.objects.exists()


def test_another_clinics_article_is_not_found(clinic_b, clinic_admin_a):
    article = _article(clinic_b)
    client = client_for(clinic_admin_a)
    for name in ("crm:knowledge_article", "crm:knowledge_delete"):
        assert client.post(reverse(name, args=[article.public_id])).status_code == 404
    assert client.get(reverse("crm:knowledge_article", args=[article.public_id])).status_code == 404
    assert "Парковка" not in client.get(reverse("crm:knowledge")).text
    assert KnowledgeArticle.objects.filter(pk=article.pk).exists()


def test_a_network_article_is_read_only_for_a_clinic_admin(clinic_a, clinic_admin_a):
    article = _article(None)
    client = client_for(clinic_admin_a)
    url = reverse("crm:knowledge_article", args=[article.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="title"' not in page.text
    assert "Во дворе." in page.text
    assert client.post(url, _post(clinic_a)).status_code == 403
    assert client.post(reverse("crm:knowledge_delete", args=[article.public_id])).status_code == 403
    article.refresh_from_db()
    assert article.clinic is None


def test_the_network_admin_keeps_every_article(clinic_a, clinic_b, network_admin):
    client = client_for(network_admin)
    response = client.post(reverse("crm:knowledge"), _post(None, published="on"))
    assert response.status_code == 302
    article = KnowledgeArticle.objects.get()
    assert article.clinic is None
    theirs = _article(clinic_b, title="Арбат")
    url = reverse("crm:knowledge_article", args=[theirs.public_id])
    assert client.post(url, _post(clinic_b, title="Арбат, 35")).status_code == 302


@pytest.mark.parametrize(
    "role", [Role.REGISTRAR, Role.DOCTOR, Role.HEAD_NURSE, Role.MARKETER, Role.DIRECTOR]
)
def test_other_roles_are_refused(clinic_a, role):
    article = _article(clinic_a)
    client = client_for(make_staff(role, clinic_a if role != Role.MARKETER else None))
    assert client.get(reverse("crm:knowledge")).status_code == 403
    assert client.post(reverse("crm:knowledge"), _post(clinic_a)).status_code == 403
    url = reverse("crm:knowledge_article", args=[article.public_id])
    assert client.get(url).status_code == 403


def test_a_patient_and_anonymous_are_refused(clinic_a, patient):
    article = _article(clinic_a)
    assert client_for(patient.user).get(reverse("crm:knowledge")).status_code == 403
    response = Client().get(reverse("crm:knowledge_article", args=[article.public_id]))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_the_search_box_shows_the_articles_the_assistant_would_cite(clinic_a, clinic_admin_a):
    article = _article(clinic_a, title="Парковка у клиники", body="Бесплатная парковка во дворе.")
    page = client_for(clinic_admin_a).get(reverse("crm:knowledge"), {"q": "есть ли парковка"})
    assert reverse("crm:help_article", args=[article.public_id]) in page.text


def test_a_published_article_is_public_and_a_draft_is_not(clinic_a):
    article = _article(clinic_a, title="Парковка у клиники")
    draft = _article(clinic_a, title="Черновик", published=False)
    response = Client().get(reverse("crm:help_article", args=[article.public_id]))
    assert response.status_code == 200
    assert "Парковка у клиники" in response.text
    assert Client().get(reverse("crm:help_article", args=[draft.public_id])).status_code == 404
