"""Rollups: daily facts the dashboards read instead of the appointments themselves.

Every row is keyed by a clinic and a *local* date (the clinic's time zone), so a day means what
the clinic's staff mean by it. The rows are derived data: `analytics.services.rollups` deletes
and rebuilds the rows of a (clinic, date) pair in one transaction whenever its sources change.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient
from scheduling.models import Doctor, Service


class DailyFact(models.Model):
    """What happened on one local day of a clinic, per doctor × service × booking channel.

    `bookings` and `rollbacks` count by the day they were made (the appointment's creation,
    the rollback's time); the visit counters, minutes and revenue count by the visit's day.
    """

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    date = models.DateField(_("date"))
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    channel = models.CharField(_("channel"), max_length=12)
    bookings = models.PositiveIntegerField(_("bookings made"), default=0)
    rollbacks = models.PositiveIntegerField(_("bookings rolled back"), default=0)
    visits = models.PositiveIntegerField(_("visits due"), default=0)
    attended = models.PositiveIntegerField(_("visits attended"), default=0)
    completed = models.PositiveIntegerField(_("visits completed"), default=0)
    no_shows = models.PositiveIntegerField(_("no-shows"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    late_cancelled = models.PositiveIntegerField(_("cancelled late"), default=0)
    booked_minutes = models.PositiveIntegerField(_("booked minutes"), default=0)
    revenue = models.DecimalField(
        _("revenue, ₽"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    new_patients = models.PositiveIntegerField(_("first visits"), default=0)

    class Meta:
        verbose_name = _("daily fact")
        verbose_name_plural = _("daily facts")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "doctor", "service", "channel"],
                name="analytics_daily_fact_unique",
            )
        ]
        indexes = [models.Index(fields=["date", "clinic"])]

    def __str__(self):
        return f"{self.clinic_id} {self.date} d{self.doctor_id} s{self.service_id} {self.channel}"


class DoctorDayCapacity(models.Model):
    """A doctor's scheduled working minutes on one local day in one clinic (after breaks,
    absences, extra hours and substitutions): the denominator of utilisation."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    date = models.DateField(_("date"))
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    scheduled_minutes = models.PositiveIntegerField(_("scheduled minutes"), default=0)

    class Meta:
        verbose_name = _("doctor's scheduled day")
        verbose_name_plural = _("doctors' scheduled days")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "doctor"], name="analytics_capacity_unique"
            )
        ]
        indexes = [models.Index(fields=["date", "clinic"])]

    def __str__(self):
        return f"{self.clinic_id} {self.date} d{self.doctor_id}: {self.scheduled_minutes} min"


class DemandCell(models.Model):
    """Visits wanted at one local hour of one day (by the visit's start, cancelled ones too,
    rolled-back ones not), per doctor and service: the peak-demand heatmap."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    date = models.DateField(_("date"))
    # Monday is 0, as `date.weekday()` numbers it; stored so the heatmap groups in SQL.
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    visits = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("demand cell")
        verbose_name_plural = _("demand cells")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "hour", "doctor", "service"],
                name="analytics_demand_unique",
            )
        ]
        indexes = [models.Index(fields=["date", "clinic"])]

    def __str__(self):
        return f"{self.clinic_id} {self.date} {self.hour}:00 × {self.visits}"


class PatientCohort(models.Model):
    """A patient's first completed visit in the network and whether they came back for another
    completed visit within 90 days: new patients and 90-day retention. No PII, only the link."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("first clinic")
    )
    first_visit_date = models.DateField(_("first visit"))
    returned_within_90 = models.BooleanField(_("came back within 90 days"), default=False)

    class Meta:
        verbose_name = _("patient cohort")
        verbose_name_plural = _("patient cohorts")
        indexes = [models.Index(fields=["first_visit_date", "clinic"])]

    def __str__(self):
        return f"p{self.patient_id} {self.first_visit_date}"


class RollupState(models.Model):
    """How far the incremental refresh has read its sources (changes after `watermark` are
    still to be rolled up)."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    watermark = models.DateTimeField(_("read up to"))
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self):
        return f"{self.name} @ {self.watermark}"
