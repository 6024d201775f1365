"""Integration tokens: long-lived credentials of another system (a connector, an integration)
issued by the network admin, as opposed to a person's API sign-in (`ApiToken`)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IntegrationToken(models.Model):
    """One system's access to the FHIR API: a name, scopes, an optional clinic and expiry.

    Only the SHA-256 digest of the token is stored; `prefix` (its first characters, random
    but not secret enough to use alone) finds the row and names it in the list. The token acts
    through `login`, an integration login made for it alone that holds the registrar role in the
    clinics it may reach; its scopes narrow what that role allows (`portal.api.authentication`).
    A revoked token keeps its row for the list and the audit log.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=80)
    scopes = models.JSONField(_("scopes"), default=list)
    clinic = models.ForeignKey(
        "portal.Clinic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integration_tokens",
        verbose_name=_("clinic"),
    )
    login = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="integration_token",
        verbose_name=_("integration login"),
    )
    prefix = models.CharField(_("token prefix"), max_length=16, unique=True)
    digest = models.CharField(_("token digest"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
