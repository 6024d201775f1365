"""Targets a clinic sets for its KPIs (drawn as a line on the dashboard)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from analytics.choices import Kpi
from portal.models import Clinic


class KpiTarget(models.Model):
    """One clinic's target for one KPI, in the KPI's own unit (a percentage for rates,
    seconds or minutes for times, roubles for revenue)."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    kpi = models.CharField(_("KPI"), max_length=30, choices=Kpi.choices)
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kpi"], name="analytics_target_unique")
        ]

    def __str__(self):
        return f"{self.clinic_id} {self.kpi} = {self.value}"
