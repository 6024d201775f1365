"""The demo's knowledge base: each clinic's address and hours and the network's articles in
both languages, the catalogue's articles, and a second run that adds nothing."""

from __future__ import annotations

import datetime
import io
import random
from decimal import Decimal

import pytest

from crm import demo_knowledge
from crm.assistant.knowledge import knowledge_search
from crm.models import KnowledgeArticle
from portal.demo import DemoContext
from tests.factories import ClinicFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_articles_in_both_languages_once():
    clinic = ClinicFactory(
        name="Медфронт на Арбате",
        city="Москва",
        address="ул. Арбат, д. 35",
        opening_hours="Ежедневно 8:00–21:00",
    )
    ServiceFactory(code="ecg", name="ЭКГ", price=Decimal("1500"), preparation="Не курить за час.")
    ctx = DemoContext(
        clinics={"moscow-arbat": clinic},
        patients=[],
        users={},
        rng=random.Random(1),
        today=datetime.date(2026, 12, 2),
        stdout=io.StringIO(),
    )
    demo_knowledge.seed(ctx)
    count = KnowledgeArticle.objects.count()
    assert count == len(demo_knowledge.NETWORK_ARTICLES) + 2 + 2
    demo_knowledge.seed(ctx)
    assert KnowledgeArticle.objects.count() == count
    directions = KnowledgeArticle.objects.get(clinic=clinic, language="ru")
    assert directions.title == "Медфронт на Арбате: адрес и часы работы"
    assert "Часы работы: Ежедневно 8:00–21:00." in directions.body
    english = KnowledgeArticle.objects.get(clinic=clinic, language="en")
    assert english.title == "Медфронт на Арбате: address and opening hours"
    hit = knowledge_search(query="how to cancel a visit", language="en")[0]
    assert hit.title == "How to cancel or move a visit"
    hit = knowledge_search(query="подготовка к анализу крови", language="ru")[0]
    assert hit.title == "Подготовка к анализу крови"
