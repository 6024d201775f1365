"""Bookings the engine refused because the time had just been taken."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic
from scheduling.models.catalogue import Doctor, Service


class RefusedOverlap(models.Model):
    """How many bookings and moves the engine refused on one local day of a clinic because
    the doctor, room or equipment was already taken (`SlotTaken`: a slot booked a moment
    before, or an overlap the database refused), per doctor × service × booking channel.

    Written by `scheduling.services.refusals` after the refused transaction rolled back, and
    only then, so a successful booking pays nothing for it. No patient data: a counter.
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
    count = models.PositiveIntegerField(_("refusals"), default=0)

    class Meta:
        verbose_name = _("refused overlapping booking")
        verbose_name_plural = _("refused overlapping bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "doctor", "service", "channel"],
                name="scheduling_refused_overlap_unique",
            )
        ]
        indexes = [models.Index(fields=["date", "clinic"], name="scheduling_refused_day")]

    def __str__(self):
        return f"{self.clinic_id} {self.date} d{self.doctor_id}: {self.count}"
