"""Temporary closures of a room or a piece of equipment (repairs, cleaning, inspection)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic

from .catalogue import Equipment, Room


class ResourceClosure(models.Model):
    """A room or a piece of equipment out of use over `[starts_at, ends_at)`.

    Exactly one of `room` and `equipment` is set, of the closure's clinic. While a closure is
    in force the booking engine offers and books no time that needs the resource (it reads
    closures with the occupancy, as busy time); visits already booked then are handed to the
    desk. Lifting it early sets `lifted_at`: from then on it holds no time at all, the past
    being beyond booking anyway, and `ends_at` keeps what was planned.
    """

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("room"),
    )
    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("piece of equipment"),
    )
    starts_at = models.DateTimeField(_("closed from"))
    ends_at = models.DateTimeField(_("closed until"))
    # Why, in the staff's words without patient data ("repairs"): shown on the desk queue.
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("closure of a room or equipment")
        verbose_name_plural = _("closures of rooms and equipment")
        indexes = [models.Index(fields=["clinic", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="resource_closure_ends_after_start"
            ),
            models.CheckConstraint(
                condition=(Q(room__isnull=False) & Q(equipment__isnull=True))
                | (Q(room__isnull=True) & Q(equipment__isnull=False)),
                name="resource_closure_one_resource",
            ),
        ]

    def __str__(self):
        period = f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
        return f"{self.room or self.equipment}: {period}"

    @property
    def resource(self) -> Room | Equipment:
        resource = self.room or self.equipment
        assert resource is not None  # noqa: S101 - the check constraint
        return resource
