"""Quotas: how many bookings a day a channel may take, and the per-day counters the booking
engine locks."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import QuotaChannel

from .catalogue import Doctor, Service


class Quota(TimeStampedModel):
    """At most `limit` bookings a day through `channel` in `clinic`, for one doctor and/or
    service (empty = any). From `release_before_hours` before a slot the limit no longer holds,
    so capacity kept back for other channels is released."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("clinic")
    )
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("doctor"),
        help_text=_("Empty: any doctor."),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("service"),
        help_text=_("Empty: any service."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=QuotaChannel.choices)
    limit = models.PositiveIntegerField(_("bookings a day"))
    release_before_hours = models.PositiveIntegerField(
        _("released hours before the slot"),
        null=True,
        blank=True,
        help_text=_("Empty: the limit holds until the slot itself."),
    )

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")

    def __str__(self):
        return f"{self.channel} ≤ {self.limit}/day"

    def matches(self, *, doctor_id: int, service_id: int) -> bool:
        return (self.doctor_id is None or self.doctor_id == doctor_id) and (
            self.service_id is None or self.service_id == service_id
        )

    def is_released(self, *, start: datetime.datetime, now: datetime.datetime) -> bool:
        if self.release_before_hours is None:
            return False
        return start - now <= datetime.timedelta(hours=self.release_before_hours)


class QuotaCounter(models.Model):
    """One quota's local day: the bookings counted and, when the head nurse set one, that
    day's own limit (`day_limit`) in place of the quota's standing `limit`.

    The override lives on the counter row because the booking engine already reads and locks
    exactly these rows (`counters_sql`, `quota_take`): honouring it costs no query of its own.
    Locked FOR UPDATE when booking.
    """

    quota = models.ForeignKey(
        Quota, on_delete=models.CASCADE, related_name="counters", verbose_name=_("quota")
    )
    date = models.DateField(_("date"))
    used = models.PositiveIntegerField(_("bookings counted"), default=0)
    day_limit = models.PositiveIntegerField(
        _("limit on this day"),
        null=True,
        blank=True,
        help_text=_("Empty: the quota's usual limit."),
    )

    class Meta:
        verbose_name = _("quota counter")
        verbose_name_plural = _("quota counters")
        constraints = [
            models.UniqueConstraint(fields=["quota", "date"], name="quota_counter_unique_day")
        ]

    def __str__(self):
        return f"{self.quota_id} {self.date}: {self.used}"

    def limit_of(self, quota: Quota) -> int:
        """The day's limit: its own when set, else the quota's."""
        return quota.limit if self.day_limit is None else self.day_limit
