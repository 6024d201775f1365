"""Per-patient activity facts: what segments ask about a patient, kept ahead of the question.

Derived data: `crm.services.activity` deletes and rewrites a patient's rows whenever their
visits or profile change (a Celery beat refresh by watermark), so a segment's count is one
indexed query here instead of probing every patient's appointments and consents. A count stays
exact between refreshes: patients whose visits changed since the watermark are counted live
instead (`crm.selectors.segments`), and the consent to advertising is set on the rows in the
transaction that signs or withdraws it (`portal.signals.consent_changed`).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient
from scheduling.models import Specialty


class PatientActivity(models.Model):
    """One patient's visits in one clinic (or, with no clinic, in the whole network).

    A clinic row exists for every clinic the patient has any appointment in or has as home
    clinic — the patients a clinic's segment may count. Anonymised and merged profiles have
    no rows."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    last_attended_at = models.DateTimeField(_("last attended visit"), null=True, blank=True)
    attended = models.PositiveIntegerField(_("visits attended"), default=0)
    no_shows = models.PositiveIntegerField(_("no-shows"), default=0)
    spend = models.DecimalField(
        _("spent on attended visits, ₽"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # Only the year of birth, for age-band rules: the date itself stays encrypted on the
    # profile. A year beside a row number identifies nobody, and it is all an age band needs.
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    # Kept in step with `portal.Consent` in the same transaction as every signature and
    # withdrawal (`crm.services.activity.activity_consent_follow`); senders still check the
    # consent itself at send time.
    marketing_consent = models.BooleanField(_("consent to advertising messages"), default=False)

    class Meta:
        verbose_name = _("patient activity")
        verbose_name_plural = _("activity of patients")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinic"], name="patient_activity_once_per_clinic"
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(clinic__isnull=True),
                name="patient_activity_once_network",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "last_attended_at"]),
            # Segments of consenting patients ("no visit for N days, agrees to advertising"):
            # a range of this index answers the count without reading the rows.
            models.Index(
                fields=["clinic", "last_attended_at"],
                include=["patient"],
                condition=Q(marketing_consent=True),
                name="patient_activity_consented",
            ),
        ]

    def __str__(self):
        return f"{self.patient_id}@{self.clinic_id or '*'}"


class PatientSpecialty(models.Model):
    """A specialty the patient attended a visit of, in a clinic (or anywhere, no clinic)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    specialty = models.ForeignKey(
        Specialty, on_delete=models.CASCADE, related_name="+", verbose_name=_("specialty")
    )

    class Meta:
        verbose_name = _("specialty visited")
        verbose_name_plural = _("specialties visited")
        indexes = [models.Index(fields=["specialty", "clinic", "patient"])]

    def __str__(self):
        return f"{self.patient_id}@{self.clinic_id or '*'}: {self.specialty_id}"


class ActivityState(models.Model):
    """How far a refresh has read its sources: changes after `watermark` are not in the facts
    yet (readers count those patients or leads live)."""

    name = models.CharField(_("name"), max_length=20, unique=True)
    watermark = models.DateTimeField(_("read up to"))
    refreshed_at = models.DateTimeField(_("refreshed"))

    class Meta:
        verbose_name = _("activity refresh state")
        verbose_name_plural = _("activity refresh states")

    def __str__(self):
        return f"{self.name} @ {self.watermark}"
