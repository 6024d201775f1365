"""What a visit's documents need beyond the visit itself: the doctor's summary written for the
patient, and invoices to organisations that pay for their staff's visits."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField
from portal.models import LegalEntity

from .appointments import Appointment


class VisitSummary(models.Model):
    """What the doctor wrote for the patient after the visit (shown on the visit summary once
    `visible_to_patient`). A diagnosis appears on the patient's documents only when the doctor
    writes it here and shows it."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="summary", verbose_name=_("appointment")
    )
    text = EncryptedTextField(_("summary for the patient"))
    # The patient sees the text (visit page, summary PDF) only once the doctor says so.
    visible_to_patient = models.BooleanField(_("visible to the patient"), default=False)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("visit summary")
        verbose_name_plural = _("visit summaries")

    def __str__(self):
        return f"summary of {self.appointment_id}"


class OrganisationInvoice(models.Model):
    """An invoice to an organisation for one visit, numbered per legal entity."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("appointment"),
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="+", verbose_name=_("legal entity")
    )
    number = models.PositiveIntegerField(_("number"))
    organisation_name = models.CharField(_("organisation"), max_length=300)
    organisation_inn = models.CharField(_("INN"), max_length=12)
    organisation_kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    organisation_address = models.CharField(_("address"), max_length=300)
    amount = models.DecimalField(_("amount, ₽"), max_digits=10, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "number"], name="invoice_number_per_legal_entity"
            )
        ]

    def __str__(self):
        return f"invoice {self.number}"
