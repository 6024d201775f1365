"""Work handed to the registrar desk by other workplaces."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scheduling.choices import RebookReason

from .appointments import Appointment


class RebookTask(models.Model):
    """An appointment the desk must move or cancel by hand: its room or device was closed, its
    doctor is away with nobody to take over, and so on. At most one open task per appointment;
    the desk closes it when the visit is moved or cancelled (or nothing turned out to be needed).
    """

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="rebook_tasks",
        verbose_name=_("appointment"),
    )
    reason = models.CharField(_("reason"), max_length=12, choices=RebookReason.choices)
    # What happened, in the staff's words without patient data ("X-ray room 2 closed for
    # repairs"): shown on the desk queue.
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("rebooking task")
        verbose_name_plural = _("rebooking tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(closed_at__isnull=True),
                name="rebook_task_one_open_per_appointment",
            ),
        ]

    def __str__(self):
        return f"rebook {self.appointment_id} ({self.reason})"
