"""PLACEHOLDER (issue #18): retrieval over the knowledge base.

The knowledge-base branch replaces this module at merge (articles editable by clinic admins,
full-text search). Only the signature and `KnowledgeHit` are the contract; this version finds
nothing, so the engine answers from the catalogue alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnowledgeHit:
    article_id: int
    title: str
    snippet: str
    url: str
    score: float


def knowledge_search(
    *, query: str, language: str, clinic_id: int | None = None, limit: int = 3
) -> list[KnowledgeHit]:
    return []
