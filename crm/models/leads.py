"""Leads: people who asked about care before (or without) booking, and where they came from."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.choices import LeadEventKind, LeadSource, StageKind
from portal.fields import EncryptedCharField, EncryptedTextField
from portal.models import Clinic, Patient
from scheduling.models import Appointment


class PipelineStage(models.Model):
    """A step of the lead pipeline. Rows without a clinic are the network's default pipeline;
    a clinic with stages of its own uses those instead."""

    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("Empty: the network's default pipeline."),
    )
    # Built-in stages have a code and are named in the reader's language; a clinic's own stages
    # have only the name its staff gave them.
    code = models.SlugField(_("code"), max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=10)
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "name"], condition=~Q(name=""), name="pipeline_stage_unique_name"
            ),
        ]

    def __str__(self):
        return str(BUILT_IN_STAGES.get(self.code, self.name)) if self.code else self.name


# The network's default pipeline (created by the first migration), in order.
BUILT_IN_STAGES = {
    "new": _("New"),
    "contacted": _("Contacted"),
    "booked": pgettext_lazy("lead stage", "Booked"),
    "lost": _("Lost"),
}


class Lead(models.Model):
    """One enquiry: a website form, a call, a message, a walk-in. Its contact details are
    personal data (encrypted, found through blind indexes like a patient's); the attribution
    ids of its first touch are the marketing systems' own identifiers, kept in clear for the
    funnel and the offline-conversion export."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    source = models.CharField(_("source"), max_length=12, choices=LeadSource.choices)
    stage = models.ForeignKey(
        PipelineStage, on_delete=models.PROTECT, related_name="leads", verbose_name=_("stage")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("patient"),
    )
    name = EncryptedCharField(_("name"), max_length=150, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=16, blank=True)
    email = EncryptedCharField(_("email"), max_length=254, blank=True)
    comment = EncryptedTextField(_("comment"), max_length=1000, blank=True)
    phone_bidx = models.CharField(_("phone index"), max_length=64, blank=True, db_index=True)
    email_bidx = models.CharField(_("e-mail index"), max_length=64, blank=True, db_index=True)
    # First-touch attribution.
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=150, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=150, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=150, blank=True)
    ym_client_id = models.CharField(_("Yandex Metrica ClientId"), max_length=40, blank=True)
    yclid = models.CharField(_("Yandex Direct click id (yclid)"), max_length=40, blank=True)
    roistat_visit = models.CharField(_("Roistat visit"), max_length=40, blank=True)
    calltouch_session_id = models.CharField(_("Calltouch session"), max_length=40, blank=True)
    comagic_visitor_id = models.CharField(_("CoMagic visitor"), max_length=40, blank=True)
    landing_url = models.CharField(_("landing page"), max_length=500, blank=True)
    tracking_number = models.CharField(_("tracking number dialled"), max_length=16, blank=True)
    # The latest touch (a repeat enquiry), for last-touch attribution; the first touch's
    # when there was none.
    last_utm_source = models.CharField(_("last UTM source"), max_length=100, blank=True)
    last_utm_campaign = models.CharField(_("last UTM campaign"), max_length=150, blank=True)
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), db_index=True)
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    first_contacted_at = models.DateTimeField(_("first contacted"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    booked_appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked visit"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The booked visit's outcome, kept ahead for the funnel (`crm.services.activity`): set
    # with the booking and refreshed when the visit changes; the funnel counts leads whose
    # visit changed since the last refresh live.
    # Database defaults too: bulk loads (COPY) that leave these out stay valid.
    outcome_attended = models.BooleanField(_("attended"), default=False, db_default=False)
    outcome_revenue = models.DecimalField(
        _("revenue, ₽"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(
                fields=["first_contact_due_at"],
                condition=Q(first_contacted_at__isnull=True, escalated_at__isnull=True),
                name="lead_awaiting_contact",
            ),
            # The funnel reads these columns of a period's leads: from this index alone on
            # PostgreSQL (a lead's row is wide with its encrypted contact details).
            models.Index(
                fields=["created_at"],
                include=[
                    "clinic",
                    "source",
                    "utm_source",
                    "utm_campaign",
                    "last_utm_source",
                    "last_utm_campaign",
                    "booked_appointment",
                    "outcome_attended",
                    "outcome_revenue",
                ],
                name="lead_funnel",
            ),
        ]

    def __str__(self):
        return f"lead {self.public_id}"


class AdSpend(models.Model):
    """Money spent on one source (and campaign) over a period, entered by the marketer or
    imported from an ad account's CSV; the funnel spreads it evenly over the period's days."""

    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("Empty: the whole network."),
    )
    utm_source = models.CharField(_("UTM source"), max_length=100)
    utm_campaign = models.CharField(
        _("UTM campaign"), max_length=150, blank=True, help_text=_("Empty: the whole source.")
    )
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    amount = models.DecimalField(_("amount, ₽"), max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    class Meta:
        ordering = ["-date_from", "utm_source", "utm_campaign"]
        verbose_name = _("ad spend")
        verbose_name_plural = _("ad spend entries")
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")), name="ad_spend_dates"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="ad_spend_not_negative"),
        ]

    def __str__(self):
        return f"{self.utm_source}/{self.utm_campaign} {self.date_from}..{self.date_to}"


class LeadEvent(models.Model):
    """One line of a lead's timeline."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=LeadEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    stage = models.ForeignKey(
        PipelineStage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stage"),
    )
    # Staff notes may name the person or their complaint: encrypted.
    note = EncryptedTextField(_("note"), max_length=1000, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")

    def __str__(self):
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class Segment(models.Model):
    """A named group of patients defined by rules (see `crm.selectors.segments.SEGMENT_RULES`);
    its members are computed when asked, never stored, so counts are always live."""

    name = models.CharField(_("name"), max_length=100)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("Empty: the whole network."),
    )
    rules = models.JSONField(_("rules"), default=dict)
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
        ordering = ["name", "pk"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self):
        return self.name
