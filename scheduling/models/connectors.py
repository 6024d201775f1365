"""Connectors: a connector-mode clinic's link to the external system that keeps its schedule,
the log of every call made to it, and the visits booked there (mirrored here)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField
from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import ConnectorKind, ConnectorOperation, ConnectorOutcome

from .appointments import Appointment


class ClinicConnector(TimeStampedModel):
    """How a clinic in connector mode reaches its external schedule system.

    `settings` holds what is not secret (for FHIR: which Schedule each of our doctors is);
    `secret` (an API token) is encrypted at rest and never shown back on any page.
    """

    clinic = models.OneToOneField(
        Clinic, on_delete=models.CASCADE, related_name="connector", verbose_name=_("clinic")
    )
    kind = models.CharField(_("system type"), max_length=12, choices=ConnectorKind.choices)
    base_url = models.URLField(_("address"), max_length=300)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    secret = EncryptedCharField(_("secret"), max_length=500, blank=True)
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout, seconds"), default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    last_sync_at = models.DateTimeField(_("last synchronised"), null=True, blank=True)

    class Meta:
        verbose_name = _("clinic connector")
        verbose_name_plural = _("clinic connectors")

    def __str__(self) -> str:
        return f"{self.clinic} → {self.get_kind_display()}"


class ConnectorCall(models.Model):
    """One call to an external system: what, how long, how it ended. No personal data: the
    error is its class name only."""

    connector = models.ForeignKey(
        ClinicConnector, on_delete=models.CASCADE, related_name="calls", verbose_name=_("connector")
    )
    operation = models.CharField(_("operation"), max_length=12, choices=ConnectorOperation.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ConnectorOutcome.choices)
    error_class = models.CharField(_("error"), max_length=60, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency, ms"))
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("connector call")
        verbose_name_plural = _("connector calls")
        indexes = [models.Index(fields=["connector", "-at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.outcome} {self.latency_ms} ms"


class ExternalBooking(models.Model):
    """A visit booked in an external system, mirrored as our appointment so that the patient's
    visits, reminders and the desk show it; `external_id` is the system's own id."""

    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.CASCADE,
        related_name="external_booking",
        verbose_name=_("appointment"),
    )
    connector = models.ForeignKey(
        ClinicConnector,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("connector"),
    )
    external_id = models.CharField(_("id in the external system"), max_length=64)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("external booking")
        verbose_name_plural = _("external bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "external_id"], name="external_booking_unique_id"
            )
        ]

    def __str__(self) -> str:
        return self.external_id
