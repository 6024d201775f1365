"""`knowledge_search()` (PostgreSQL full-text search or BM25: the same order on this set) and
the articles drawn from the catalogue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.assistant.knowledge import knowledge_search
from crm.choices import KnowledgeKind
from crm.models import KnowledgeArticle
from crm.services.knowledge import knowledge_article_update, knowledge_sync_catalogue
from tests.factories import ClinicFactory, ServiceFactory

pytestmark = pytest.mark.django_db
K = KnowledgeKind


def _article(title, body, *, language="ru", kind=K.FAQ, clinic=None, published=True):
    return KnowledgeArticle.objects.create(
        title=title, body=body, language=language, kind=kind, clinic=clinic, published=published
    )


@pytest.fixture
def articles():
    centre = ClinicFactory(name="Медфронт Центр")
    arbat = ClinicFactory(name="Медфронт Арбат", city="Москва")
    return {
        "blood": _article(
            "Подготовка к анализу крови",
            "Кровь сдают утром натощак, не есть 8–12 часов, пить только воду.",
            kind=K.PREPARATION,
        ),
        "us": _article(
            "Подготовка к УЗИ",
            "УЗИ брюшной полости делают натощак; для УЗИ щитовидной железы подготовка не нужна.",
            kind=K.PREPARATION,
        ),
        "cancel": _article(
            "Как отменить запись",
            "Отменить или перенести визит можно в личном кабинете или по телефону клиники.",
        ),
        "centre": _article(
            "Медфронт Центр: адрес и часы работы",
            "Адрес: ул. Карла Маркса, 25, Иркутск. Часы работы: Пн–Пт 8:00–20:00.",
            kind=K.DIRECTIONS,
            clinic=centre,
        ),
        "arbat": _article(
            "Медфронт Арбат: адрес и часы работы",
            "Адрес: ул. Арбат, 35, Москва. Часы работы: ежедневно 8:00–21:00.",
            kind=K.DIRECTIONS,
            clinic=arbat,
        ),
        "blood_en": _article(
            "Preparing for a blood test",
            "Blood is taken in the morning on an empty stomach; drink only still water.",
            language="en",
            kind=K.PREPARATION,
        ),
        "cancel_en": _article(
            "How to cancel a visit",
            "Cancel or move a visit in your account or call the clinic.",
            language="en",
        ),
        "draft": _article("Подготовка к гастроскопии", "Черновик", published=False),
        "clinics": (centre, arbat),
    }


@pytest.mark.parametrize(
    ("query", "language", "first"),
    [
        ("Как подготовиться к анализу крови?", "ru", "blood"),
        ("можно ли есть перед узи", "ru", "us"),
        ("как отменить запись", "ru", "cancel"),
        ("адрес клиники на Арбате", "ru", "arbat"),
        ("How do I prepare for a blood test?", "en", "blood_en"),
        ("cancel my visit", "en", "cancel_en"),
    ],
)
def test_the_best_article_comes_first(articles, query, language, first):
    hits = knowledge_search(query=query, language=language)
    assert hits, query
    assert hits[0].article_id == articles[first].pk
    assert hits[0].url == f"/crm/help/{articles[first].public_id}/"
    assert hits[0].score > 0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_a_clinic_sees_its_own_and_the_networks_articles(articles):
    centre, arbat = articles["clinics"]
    hits = knowledge_search(query="адрес и часы работы", language="ru", clinic_id=centre.pk)
    ids = [hit.article_id for hit in hits]
    assert articles["centre"].pk in ids
    assert articles["arbat"].pk not in ids
    both = knowledge_search(query="адрес и часы работы", language="ru", limit=5)
    assert {articles["centre"].pk, articles["arbat"].pk} <= {hit.article_id for hit in both}


def test_drafts_other_languages_and_empty_questions_find_nothing(articles):
    assert knowledge_search(query="гастроскопии", language="ru") == []
    english = {hit.article_id for hit in knowledge_search(query="blood test", language="en")}
    assert english == {articles["blood_en"].pk}
    assert knowledge_search(query="", language="ru") == []
    assert knowledge_search(query="как и где", language="ru") == []
    assert knowledge_search(query="анализ крови", language="ru", limit=0) == []
    hits = knowledge_search(query="анализ крови", language="ru", limit=1)
    assert len(hits) == 1


def test_the_snippet_is_short_and_starts_near_the_words(articles):
    long_body = "Вступление. " * 60 + "Парковка есть во дворе клиники, въезд с улицы Ленина."
    article = _article("Парковка", long_body)
    hit = knowledge_search(query="где парковка", language="ru")[0]
    assert hit.article_id == article.pk
    assert len(hit.snippet) <= 245
    assert "Парковка" in hit.snippet


def test_the_catalogue_gives_preparation_and_price_articles():
    abdomen = ServiceFactory(
        code="us-abdomen",
        name="УЗИ органов брюшной полости",
        price=Decimal("2900"),
        preparation="Натощак: не есть 6–8 часов.",
    )
    ServiceFactory(code="ecg", name="ЭКГ с расшифровкой", price=Decimal("1500"))
    assert knowledge_sync_catalogue() == 2
    assert knowledge_sync_catalogue() == 2  # idempotent
    preparation = KnowledgeArticle.objects.get(source_key="service:us-abdomen:preparation")
    assert preparation.service == abdomen
    assert preparation.title == "Подготовка: УЗИ органов брюшной полости"
    prices = KnowledgeArticle.objects.get(source_key="catalogue:prices")
    assert "ЭКГ с расшифровкой — 1 500 ₽" in prices.body.replace("\xa0", " ")
    hit = knowledge_search(query="сколько стоит ЭКГ", language="ru")[0]
    assert hit.article_id == prices.pk
    # A preparation text removed from the catalogue takes its article with it ...
    abdomen.preparation = ""
    abdomen.save()
    knowledge_sync_catalogue()
    assert not KnowledgeArticle.objects.filter(service=abdomen).exists()


def test_an_article_edited_by_hand_stops_following_the_catalogue():
    ServiceFactory(code="ecg", name="ЭКГ", preparation="Не курить за час.")
    knowledge_sync_catalogue()
    article = KnowledgeArticle.objects.get(source_key="service:ecg:preparation")
    knowledge_article_update(article=article, actor=None, body="Не курить и не пить кофе.")
    article.refresh_from_db()
    assert article.source_key == ""
    knowledge_sync_catalogue()
    article.refresh_from_db()
    assert article.body == "Не курить и не пить кофе."
