"""Booking requests: how a clinic in request mode takes bookings. The patient (or a registrar
for them) says what and when they would like; the clinic's staff confirm a real slot, propose
up to three alternatives, or decline."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField
from portal.models import Clinic, Patient
from scheduling.choices import (
    BookingRequestSource,
    BookingRequestStatus,
    ContactChannel,
    DayPart,
)

from .appointments import Appointment
from .catalogue import Doctor, Service, Specialty


class BookingRequest(models.Model):
    """A patient's wish to be seen in a request-mode clinic, waiting for staff to answer.

    `windows` lists the patient's preferred times as
    `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "part": <DayPart>}` (local dates of the
    clinic, one to three of them; a single day has `from == to`). An open request must be
    answered by `sla_due_at` (the clinic's SLA in working minutes of its desk); past it the
    periodic task sets `escalated`. The status only moves through
    `scheduling.services.booking_requests`, each move audited and timestamped.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="booking_requests",
        verbose_name=_("patient"),
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="booking_requests", verbose_name=_("clinic")
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("preferred doctor"),
    )
    windows = models.JSONField(_("preferred times"), default=list)
    contact_channel = models.CharField(
        _("contact by"), max_length=8, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    comment = EncryptedTextField(_("comment"), blank=True)
    source = models.CharField(
        _("left through"),
        max_length=10,
        choices=BookingRequestSource.choices,
        default=BookingRequestSource.PORTAL,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BookingRequestStatus.choices,
        default=BookingRequestStatus.OPEN,
    )
    sla_due_at = models.DateTimeField(_("answer due by"))
    escalated = models.BooleanField(_("escalated"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="booking_request",
        verbose_name=_("appointment"),
    )
    decline_reason = models.CharField(_("reason for declining"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last handled by"),
    )
    created_at = models.DateTimeField(_("created"))
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    # From the request to the booked visit, for analytics (wall-clock time, not working time).
    time_to_confirm = models.DurationField(_("time to confirm"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("booking request")
        verbose_name_plural = _("booking requests")
        indexes = [models.Index(fields=["clinic", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False) | Q(specialty__isnull=False),
                name="booking_request_service_or_specialty",
            ),
        ]

    def __str__(self):
        return f"request {self.public_id} ({self.status})"

    @property
    def what(self) -> str:
        """What is asked: the service, else the specialty."""
        return self.service.name if self.service else str(self.specialty)

    def preferred_times(self) -> list[tuple[datetime.date, datetime.date, str]]:
        """The preferred days as (first, last, part of the day's label), for pages."""
        return [
            (
                datetime.date.fromisoformat(w["from"]),
                datetime.date.fromisoformat(w["to"]),
                str(DayPart(w["part"]).label),
            )
            for w in self.windows
        ]


class ProposedSlot(models.Model):
    """One alternative time the clinic proposed for a request. Not held: the patient may take
    hours to answer, and a hold would keep the time from everyone else meanwhile; the engine
    checks it again when the patient accepts."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        BookingRequest,
        on_delete=models.CASCADE,
        related_name="proposals",
        verbose_name=_("booking request"),
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    starts_at = models.DateTimeField(_("starts at"))

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("proposed time")
        verbose_name_plural = _("proposed times")

    def __str__(self):
        return f"proposal {self.public_id}"
