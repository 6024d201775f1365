"""Finding the articles that answer a patient's question.

On PostgreSQL: full-text search with the language's configuration (`russian` stems
"подготовиться" and "подготовка" alike), ranked by `ts_rank` with titles above bodies; any of
the question's words may match. Elsewhere (SQLite in development and tests): BM25 over the same
fields with pymorphy3 lemmas, titles counted twice. Both return the best first and break ties
by age, so a clear question gets the same answer on either database.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from crm.assistant.text import lemma, tokens
from crm.models import KnowledgeArticle

CONFIGS = {"ru": "russian", "en": "english"}
MAX_TERMS = 16
# Words too common in questions to tell articles apart (both languages, as lemmas).
STOP_WORDS = frozenset(
    (
        *("и", "в", "во", "на", "с", "со", "к", "ко", "по", "о", "об", "у", "за", "из", "от"),
        *("до", "для", "а", "но", "или", "ли", "не", "же", "бы", "что", "как", "какой", "где"),
        *("когда", "я", "мы", "вы", "ты", "он", "она", "это", "тот", "быть", "мочь", "нужно"),
        *("можно", "ваш", "мой", "свой", "весь", "сколько", "есть", "the", "a", "an", "to", "of"),
        "in",
        *("on", "at", "for", "and", "or", "is", "are", "do", "does", "i", "you", "we", "my"),
        *("your", "it", "what", "how", "where", "when", "can", "should", "be", "with", "me"),
    )
)


@dataclass(frozen=True)
class KnowledgeHit:
    """One article that answers the question; `url` is its public page, for citing."""

    article_id: int
    title: str
    snippet: str
    url: str
    score: float


def _terms(query: str) -> list[str]:
    seen: list[str] = []
    for token in tokens(query[:500]):
        if len(token) < 2 or lemma(token) in STOP_WORDS or token in STOP_WORDS:
            continue
        if token not in seen:
            seen.append(token)
    return seen[:MAX_TERMS]


def _candidates(language: str, clinic_id: int | None) -> QuerySet[KnowledgeArticle]:
    articles = KnowledgeArticle.objects.filter(published=True, language=language)
    if clinic_id is not None:
        articles = articles.filter(Q(clinic_id=clinic_id) | Q(clinic__isnull=True))
    return articles


def _snippet(body: str, terms: list[str], size: int = 240) -> str:
    text = re.sub(r"\s+", " ", body).strip()
    if len(text) <= size:
        return text
    lower = text.lower()
    positions = [lower.find(t[:5]) for t in terms if lower.find(t[:5]) >= 0]
    start = max(0, min(positions) - 40) if positions else 0
    piece = text[start : start + size]
    return ("…" if start else "") + piece.rsplit(" ", 1)[0] + "…"


def _postgres(articles, terms: list[str], language: str, limit: int):
    config = CONFIGS.get(language, "simple")
    vector = SearchVector("title", weight="A", config=config) + SearchVector(
        "body", weight="B", config=config
    )
    query = reduce(or_, [SearchQuery(term, config=config) for term in terms])
    ranked = (
        articles.annotate(rank=SearchRank(vector, query))
        .filter(rank__gt=0)
        .order_by("-rank", "pk")
        .values_list("pk", "public_id", "title", "body", "rank")[:limit]
    )
    return list(ranked)


def _bm25(articles, terms: list[str], limit: int, k1: float = 1.2, b: float = 0.75):
    rows = list(articles.values_list("pk", "public_id", "title", "body"))
    if not rows:
        return []
    docs = []
    for row in rows:
        words = [lemma(t) for t in tokens(row[2])] * 2 + [lemma(t) for t in tokens(row[3])]
        docs.append(Counter(words))
    lengths = [sum(doc.values()) for doc in docs]
    average = sum(lengths) / len(lengths) or 1.0
    query = {lemma(term) for term in terms}
    idf = {}
    for term in query:
        having = sum(1 for doc in docs if term in doc)
        idf[term] = math.log(1 + (len(docs) - having + 0.5) / (having + 0.5))
    scored = []
    for row, doc, length in zip(rows, docs, lengths, strict=True):
        score = 0.0
        for term in query:
            freq = doc.get(term, 0)
            if freq:
                score += idf[term] * freq * (k1 + 1) / (freq + k1 * (1 - b + b * length / average))
        if score > 0:
            scored.append((*row, score))
    scored.sort(key=lambda item: (-item[4], item[0]))
    return scored[:limit]


def knowledge_search(
    *, query: str, language: str, clinic_id: int | None = None, limit: int = 3
) -> list[KnowledgeHit]:
    """Published articles in `language` (the clinic's and network-wide ones when `clinic_id`
    is given, all otherwise) that answer `query`, best first."""
    terms = _terms(query)
    if not terms or limit <= 0:
        return []
    articles = _candidates(language, clinic_id)
    if connection.vendor == "postgresql":
        rows = _postgres(articles, terms, language, limit)
    else:
        rows = _bm25(articles, terms, limit)
    return [
        KnowledgeHit(
            article_id=pk,
            title=title,
            snippet=_snippet(body, terms),
            url=reverse("crm:help_article", args=[public_id]),
            score=round(float(score), 4),
        )
        for pk, public_id, title, body, score in rows
    ]
