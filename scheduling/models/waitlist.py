"""The cancellation waitlist: patients who asked to hear when a time frees up."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient
from scheduling.choices import (
    FreedSlotOrigin,
    FreedSlotStatus,
    WaitlistOfferStatus,
    WaitlistStatus,
)

from .appointments import Appointment, Hold
from .catalogue import Doctor, Service, Specialty

MAX_BOOST = 40


class WaitlistEntry(models.Model):
    """A patient waiting for a free time of a service (or of any service of a specialty),
    optionally with one doctor, in one clinic or any clinic of one city (neither: the whole
    network), between two local dates. Offers of freed slots are made to active entries; the
    patient leaves the list at any time."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("patient")
    )
    # Exactly one of the two: one service, or any service of the specialty.
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("doctor"),
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    # Any clinic of this city, for an entry without a clinic; "" (and no clinic): anywhere.
    city = models.CharField(_("city"), max_length=100, blank=True)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=12, choices=WaitlistStatus.choices, default=WaitlistStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Staff's say in the ranking of offers (seed 003): urgent adds 30 points, the boost 0–40.
    urgent = models.BooleanField(_("urgent"), default=False)
    boost = models.PositiveSmallIntegerField(
        _("manual boost"), default=0, validators=[MaxValueValidator(MAX_BOOST)]
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        indexes = [models.Index(fields=["service", "status", "date_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(boost__lte=MAX_BOOST), name="waitlist_boost_at_most_40"
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=False, specialty__isnull=True)
                | Q(service__isnull=True, specialty__isnull=False),
                name="waitlist_service_or_specialty",
            ),
        ]

    def __str__(self):
        return f"waitlist {self.public_id} ({self.status})"

    @property
    def wanted(self) -> str:
        """What the patient waits for, as staff and the patient read it."""
        if self.service is not None:
            return self.service.name
        name = self.specialty.name if self.specialty is not None else ""
        return str(_("any service: %(specialty)s")) % {"specialty": name}


class FreedSlot(models.Model):
    """A slot a cancellation (or rollback, or an unpaid booking's release) gave back, or a
    schedule change opened (`origin`; such a slot has no source visit), as the waitlist offers
    it: batch after batch of offers until someone takes it or nobody is left. Kept afterwards
    for analytics: whether and how fast it was filled, and whether staff had to step in."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    origin = models.CharField(
        _("origin"),
        max_length=12,
        choices=FreedSlotOrigin.choices,
        default=FreedSlotOrigin.CANCELLATION,
    )
    # The cancelled visit; none for a time a schedule change opened.
    source = models.OneToOneField(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="freed_slot",
        verbose_name=_("freed by"),
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    starts_at = models.DateTimeField(_("starts"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=FreedSlotStatus.choices,
        default=FreedSlotStatus.OFFERING,
    )
    # The slot kept for the patients of the current batch (engine hold, shared by them).
    hold = models.ForeignKey(
        Hold,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hold"),
    )
    batch = models.PositiveSmallIntegerField(_("batch"), default=0)
    # When the current batch runs out, or the deferred first batch is due (contact hours).
    next_step_at = models.DateTimeField(_("next step at"), null=True, blank=True)
    freed_at = models.DateTimeField(_("freed at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    filled_by = models.OneToOneField(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="filled_slot",
        verbose_name=_("filled by"),
    )
    manual = models.BooleanField(_("assigned by staff"), default=False)
    # Won by a patient whose rank staff had raised (a manual boost), as it stood at the fill:
    # with `manual`, the fills that needed staff.
    won_with_boost = models.BooleanField(_("won with a staff boost"), default=False)

    class Meta:
        ordering = ["-freed_at"]
        verbose_name = _("freed slot")
        verbose_name_plural = _("freed slots")
        indexes = [
            models.Index(fields=["status", "next_step_at"]),
            models.Index(fields=["clinic", "freed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(origin=FreedSlotOrigin.CANCELLATION, source__isnull=False)
                | Q(origin=FreedSlotOrigin.SCHEDULE, source__isnull=True),
                name="freed_slot_origin_matches_source",
            ),
            # A time a schedule change opened is offered once, whatever the service.
            models.UniqueConstraint(
                fields=["doctor", "starts_at"],
                condition=Q(source__isnull=True),
                name="one_opened_slot_per_doctor_and_time",
            ),
        ]

    def __str__(self):
        return f"freed slot {self.public_id} ({self.status})"

    @property
    def time_to_fill(self):
        """How long the slot stayed free, for a filled one; else None."""
        if self.status != FreedSlotStatus.FILLED or self.closed_at is None:
            return None
        return self.closed_at - self.freed_at


class WaitlistOffer(models.Model):
    """One waiting patient offered one freed slot, in one batch. The first to accept books
    it; the others of the batch are told it is taken. `token` is the credential of the
    accept link in the message."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    token = models.CharField(_("link token"), max_length=64, unique=True)
    slot = models.ForeignKey(
        FreedSlot, on_delete=models.CASCADE, related_name="offers", verbose_name=_("slot")
    )
    entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("entry")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    batch = models.PositiveSmallIntegerField(_("batch"))
    score = models.SmallIntegerField(_("score"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=WaitlistOfferStatus.choices,
        default=WaitlistOfferStatus.OFFERED,
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_channel = models.CharField(_("answered through"), max_length=16, blank=True)
    # Why an acceptance could not be booked (a domain error's code), for staff.
    note = models.CharField(_("note"), max_length=64, blank=True)

    class Meta:
        ordering = ["slot", "batch", "-score"]
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["slot", "entry"], name="one_offer_per_slot_and_entry"),
        ]

    def __str__(self):
        return f"waitlist offer {self.public_id} ({self.status})"
