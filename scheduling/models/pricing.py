"""What a visit costs: prices per clinic with the day they take effect, and promotions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import DiscountKind, PatientSegment

from .catalogue import Service


class ServicePrice(TimeStampedModel):
    """The price of a service in one clinic from `valid_from` (the clinic's local day) on.

    The price in force on a day is the row with the latest `valid_from` not after it; with no
    row, the service's network price (`Service.price`) applies. Rows are never edited once in
    force: a new price is a new row, so the history stays readable. A booking copies the price
    of the day it is made into `Appointment.price`.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="service_prices", verbose_name=_("clinic")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="clinic_prices", verbose_name=_("service")
    )
    price = models.DecimalField(_("price, ₽"), max_digits=10, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        ordering = ["clinic", "service", "-valid_from"]
        verbose_name = _("clinic price")
        verbose_name_plural = _("clinic prices")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "service", "valid_from"], name="service_price_one_per_day"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_row_nonneg"),
        ]

    def __str__(self):
        return f"{self.service} · {self.price} ({self.valid_from})"


class Promotion(TimeStampedModel):
    """A discount of one clinic: on one service or all, for a period of booking days
    (`starts_on`..`ends_on`, both included, in the clinic's local time), for everyone or a
    segment, with or without a promo code, limited to `usage_limit` bookings if set.

    Without a code it applies by itself to bookings that fit; with a code, only to bookings
    that give it. `times_used` counts the bookings it went into (raised under the limit in
    the booking's transaction).
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="promotions", verbose_name=_("clinic")
    )
    name = models.CharField(_("name"), max_length=120)
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="promotions",
        verbose_name=_("service"),
        help_text=_("Empty: every service of the clinic."),
    )
    kind = models.CharField(_("discount type"), max_length=10, choices=DiscountKind.choices)
    value = models.DecimalField(_("discount"), max_digits=10, decimal_places=2)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    code = models.CharField(
        _("promo code"),
        max_length=30,
        blank=True,
        help_text=_("Empty: the discount applies without a code."),
    )
    segment = models.CharField(
        _("patients"), max_length=12, choices=PatientSegment.choices, default="everyone"
    )
    min_age = models.PositiveSmallIntegerField(_("from age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("to age"), null=True, blank=True)
    usage_limit = models.PositiveIntegerField(_("usage limit"), null=True, blank=True)
    times_used = models.PositiveIntegerField(_("times used"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["clinic", "-starts_on", "name"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="promotion_code_unique"
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="promotion_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="promotion_percent_max"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="promotion_period_order"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_limited(self) -> bool:
        return self.usage_limit is not None
