"""Retention campaigns: one message to the patients of a segment who agreed to advertising."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import CampaignChannel, CampaignStatus
from portal.models import Clinic, Patient

from .leads import Segment


class Campaign(models.Model):
    """A message to a segment, sent once through the outbox's bulk lane. Only patients with an
    active consent to advertising messages get it, and only on channels they have not stopped;
    the recipients are kept (`CampaignRecipient`) so the results can be counted later."""

    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("segment")
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=CampaignChannel.choices)
    subject = models.CharField(_("subject"), max_length=150, blank=True)
    text = models.TextField(_("text"), max_length=1000)
    booking_window_days = models.PositiveSmallIntegerField(
        _("bookings counted for, days"), default=14
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
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
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("messages queued"), default=0)
    skipped = models.PositiveIntegerField(_("patients skipped"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name


class CampaignRecipient(models.Model):
    """One patient a campaign's message was queued for, and that message."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="sent_to", verbose_name=_("campaign")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    message = models.ForeignKey(
        "notifications.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "patient"], name="campaign_once_per_patient"
            )
        ]

    def __str__(self):
        return f"{self.campaign_id}: {self.patient_id}"
