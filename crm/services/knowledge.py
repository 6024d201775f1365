"""Writes to the assistant's knowledge base: articles by clinic admins, and the articles drawn
from the catalogue (preparation texts, the price list), refreshed from it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crm.choices import KnowledgeKind
from crm.models import KnowledgeArticle
from portal.models import Clinic
from scheduling.models import Service

FIELDS = ("title", "body", "language", "kind", "clinic", "service", "published")


@transaction.atomic
def knowledge_article_create(*, actor: Any, **fields: Any) -> KnowledgeArticle:
    """A new article; `actor` may edit articles of `fields["clinic"]` (the view checked it)."""
    article = KnowledgeArticle(**{k: v for k, v in fields.items() if k in FIELDS})
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def knowledge_article_update(
    *, article: KnowledgeArticle, actor: Any, **fields: Any
) -> KnowledgeArticle:
    """Change an article; a catalogue article edited by hand stops following the catalogue."""
    changed = [name for name in FIELDS if name in fields]
    for name in changed:
        setattr(article, name, fields[name])
    if article.source_key:
        article.source_key = ""
        changed.append("source_key")
    article.full_clean()
    article.save(update_fields=[*changed, "updated_at"])
    return article


@transaction.atomic
def knowledge_article_delete(*, article: KnowledgeArticle, actor: Any) -> None:
    article.delete()


def _upsert(*, source_key: str, language: str, **fields: Any) -> KnowledgeArticle:
    article, _created = KnowledgeArticle.objects.update_or_create(
        source_key=source_key, language=language, defaults=fields
    )
    return article


@transaction.atomic
def knowledge_sync_catalogue() -> int:
    """Draw articles from the catalogue: each active service's preparation text and the
    network's price list (in Russian, the catalogue's language). Idempotent; returns how many
    articles it wrote. Services that lost their preparation lose their article."""
    services = list(
        Service.objects.filter(is_active=True).select_related("specialty").order_by("name")
    )
    written = 0
    keep = set()
    with translation.override("ru"):
        for service in services:
            if not service.preparation.strip():
                continue
            key = f"service:{service.code}:preparation"
            keep.add(key)
            _upsert(
                source_key=key,
                language="ru",
                title=_("Preparation: %(service)s") % {"service": service.name},
                body=service.preparation.strip(),
                kind=KnowledgeKind.PREPARATION,
                service=service,
                clinic=None,
                published=True,
            )
            written += 1
        if services:
            lines = [
                f"{service.name} — {number_format(service.price, 0, force_grouping=True)} ₽"
                for service in services
            ]
            keep.add("catalogue:prices")
            _upsert(
                source_key="catalogue:prices",
                language="ru",
                title=_("Prices for visits and tests"),
                body=_("Base prices of the network; a clinic's price may differ.")
                + "\n\n"
                + "\n".join(lines),
                kind=KnowledgeKind.PRICES,
                service=None,
                clinic=None,
                published=True,
            )
            written += 1
    KnowledgeArticle.objects.exclude(source_key="").exclude(source_key__in=keep).delete()
    return written


def knowledge_directions_text(clinic: Clinic, language: str) -> tuple[str, str]:
    """Title and text of a clinic's address-and-hours article, from the clinic's card."""
    with translation.override(language):
        title = _("%(clinic)s: address and opening hours") % {"clinic": clinic.name}
        parts = [
            _("Address: %(address)s, %(city)s.") % {"address": clinic.address, "city": clinic.city}
        ]
        if clinic.opening_hours:
            parts.append(_("Opening hours: %(hours)s.") % {"hours": clinic.opening_hours})
        if clinic.phone:
            parts.append(_("Phone: %(phone)s.") % {"phone": clinic.phone})
    return title, " ".join(parts)
