"""Tasks on leads: a follow-up call, a reminder to send prices — due at a time, owned by one
CRM user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField

from .leads import Lead


class LeadTask(models.Model):
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("lead")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    # Staff may write the person's name or complaint here: encrypted like a lead's notes.
    text = EncryptedCharField(_("task"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("lead task")
        verbose_name_plural = _("lead tasks")
        indexes = [
            models.Index(
                fields=["owner", "due_at"], condition=Q(done_at__isnull=True), name="lead_task_open"
            )
        ]

    def __str__(self):
        return f"task {self.pk} on lead {self.lead_id}"

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.due_at <= timezone.now()
