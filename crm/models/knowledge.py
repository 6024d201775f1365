"""The assistant's knowledge base: articles it quotes and cites when patients ask."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import KnowledgeKind, KnowledgeLanguage
from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.models import Service


class KnowledgeArticle(TimeStampedModel):
    """An answer in one language: network-wide (no clinic) or one clinic's. Articles drawn
    from the catalogue (a service's preparation text, the price list) carry `source_key` and
    are rewritten by `knowledge_sync_catalogue`; the rest are written by clinic admins."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    language = models.CharField(
        _("language"), max_length=2, choices=KnowledgeLanguage.choices, default="ru"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=KnowledgeKind.choices)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="knowledge_articles",
        verbose_name=_("clinic"),
        help_text=_("Empty: the article is for the whole network."),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="knowledge_articles",
        verbose_name=_("service"),
    )
    source_key = models.CharField(
        _("catalogue source"),
        max_length=80,
        blank=True,
        help_text=_("Set on articles drawn from the catalogue; they are refreshed from it."),
    )
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ["kind", "title", "pk"]
        verbose_name = _("knowledge-base article")
        verbose_name_plural = _("knowledge-base articles")
        indexes = [models.Index(fields=["language", "published"], name="knowledge_lang_pub")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "language"],
                condition=~models.Q(source_key=""),
                name="knowledge_source_unique",
            ),
        ]

    def __str__(self):
        return self.title
