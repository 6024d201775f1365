"""Time away from the schedule: a doctor's leave requests and the substitutions that cover
an absent doctor's hours."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField
from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import LeaveKind, LeaveStatus

from .catalogue import Doctor


class Substitution(TimeStampedModel):
    """On `date`, in `clinic`, `substitute` works the hours of `absent_doctor`."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    date = models.DateField(_("date"))
    absent_doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("absent doctor")
    )
    substitute = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("substitute doctor")
    )
    note = EncryptedCharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("substitution")
        verbose_name_plural = _("substitutions")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "absent_doctor"], name="substitution_one_per_day"
            ),
            models.CheckConstraint(
                condition=~Q(absent_doctor=F("substitute")), name="substitution_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.date}: {self.substitute} for {self.absent_doctor}"


class LeaveRequest(TimeStampedModel):
    """A doctor asks for a day off or a substitution from `date_from` to `date_to`.

    Nothing in the schedule changes until the head nurse or the clinic admin approves it (an
    approval then becomes a `ScheduleException` or `Substitution`); a pending request only
    tells them. Without a clinic it concerns every clinic the doctor works in.
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="leave_requests", verbose_name=_("doctor")
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("Empty: every clinic the doctor works in."),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=LeaveKind.choices)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    substitute = models.ForeignKey(
        Doctor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed substitute"),
    )
    # The doctor's own words ("family matters"): personal data, encrypted.
    note = EncryptedCharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=LeaveStatus.choices, default=LeaveStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Why it was declined (or a word on the approval), shown to the doctor: staff may mention
    # health or family, so it is encrypted like the doctor's note.
    decision_reason = EncryptedCharField(_("decision reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["date_from", "pk"]
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="leave_request_dates"
            ),
            models.CheckConstraint(
                condition=Q(substitute__isnull=True) | ~Q(substitute=F("doctor")),
                name="leave_request_substitute_not_self",
            ),
        ]

    def __str__(self):
        return f"{self.doctor} {self.kind} {self.date_from}..{self.date_to}"
