"""Appointments, their history, holds, and the occupancy table that makes overlaps impossible."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField
from portal.models import Clinic, Patient
from scheduling.choices import (
    AppointmentChannel,
    AppointmentEventKind,
    AppointmentStatus,
    QuotaChannel,
    ResourceKind,
)
from scheduling.db import PostgresExclusionConstraint, TsTzRange

from .catalogue import Doctor, Equipment, Room, Service


class Appointment(models.Model):
    """One visit of one patient to one doctor in one clinic.

    Written only by `scheduling.services.booking`; every change appends an `AppointmentEvent`
    (moves also an `AppointmentMove`). While it occupies time (see `OCCUPYING_STATUSES`) it has
    `Occupancy` rows for its doctor, room and equipment, which the database keeps disjoint.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    # The indexes of Meta.indexes lead with these three; an index of their own would only cost
    # every booking's insert.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
        verbose_name=_("patient"),
    )
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
        verbose_name=_("doctor"),
    )
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
        verbose_name=_("clinic"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("service")
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("room")
    )
    equipment = models.ManyToManyField(
        Equipment, blank=True, related_name="appointments", verbose_name=_("equipment")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after the visit, minutes"), default=0
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    channel = models.CharField(_("channel"), max_length=12, choices=AppointmentChannel.choices)
    quota_channel = models.CharField(
        _("quota channel"), max_length=10, choices=QuotaChannel.choices, blank=True
    )
    # What the patient pays: the clinic's price of the booking day less `discount`.
    price = models.DecimalField(_("price, ₽"), max_digits=10, decimal_places=2)
    discount = models.DecimalField(
        _("discount, ₽"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    promotion = models.ForeignKey(
        "scheduling.Promotion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("promotion"),
    )
    reschedule_count = models.PositiveSmallIntegerField(_("reschedules"), default=0)
    # Free text typed by patients and staff ("ill", "in hospital"): encrypted like the profile.
    cancel_reason = EncryptedCharField(_("cancellation reason"), max_length=300, blank=True)
    late_cancel = models.BooleanField(_("late cancellation"), default=False)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("marked no-show at"), null=True, blank=True)
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)
    # Set when the booking waits for an online prepayment: unpaid by then, it is released
    # (`scheduling.services.payments`). Cleared when the payment arrives; kept on a released
    # visit, which tells why it was cancelled.
    payment_due_at = models.DateTimeField(_("pay by"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["doctor", "starts_at"]),
            models.Index(fields=["clinic", "starts_at"]),
            # A patient's visits by status in time order: "my visits", and the first completed
            # visit the dashboard's new-patient count reads without touching the table.
            models.Index(fields=["patient", "status", "starts_at"]),
            # The dashboard's live days read the visits booked in them, and its roll-up the
            # visits changed since its watermark: both without scanning a year of history.
            models.Index(fields=["clinic", "created_at"]),
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.public_id} {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def list_price(self) -> Decimal:
        """The price before the discount."""
        return self.price + self.discount


class AppointmentEvent(models.Model):
    """One change of an appointment: who, when, from which status to which."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="events", verbose_name=_("appointment")
    )
    kind = models.CharField(_("event"), max_length=12, choices=AppointmentEventKind.choices)
    from_status = models.CharField(
        _("previous status"), max_length=12, choices=AppointmentStatus.choices, blank=True
    )
    to_status = models.CharField(_("new status"), max_length=12, choices=AppointmentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    reason = EncryptedCharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("appointment event")
        verbose_name_plural = _("appointment events")

    def __str__(self):
        return f"{self.kind} {self.from_status}→{self.to_status}"


class AppointmentMove(models.Model):
    """A reschedule: the exact previous placement, so a rollback can restore it."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="moves", verbose_name=_("appointment")
    )
    event = models.OneToOneField(
        AppointmentEvent,
        on_delete=models.CASCADE,
        related_name="move",
        verbose_name=_("appointment event"),
    )
    from_starts_at = models.DateTimeField(_("previous start"))
    from_ends_at = models.DateTimeField(_("previous end"))
    from_doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="+", verbose_name=_("previous doctor")
    )
    from_room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous room"),
    )
    from_equipment_ids = models.JSONField(_("previous equipment ids"), default=list, blank=True)
    from_buffer_minutes = models.PositiveSmallIntegerField(_("previous buffer, minutes"), default=0)
    from_status = models.CharField(
        _("previous status"), max_length=12, choices=AppointmentStatus.choices
    )
    to_starts_at = models.DateTimeField(_("new start"))
    to_ends_at = models.DateTimeField(_("new end"))
    to_doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="+", verbose_name=_("new doctor")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved by"),
    )
    moved_at = models.DateTimeField(_("moved at"))

    class Meta:
        ordering = ["moved_at", "id"]
        verbose_name = _("appointment move")
        verbose_name_plural = _("appointment moves")

    def __str__(self):
        return f"{self.from_starts_at} → {self.to_starts_at}"


class RollbackRecord(models.Model):
    """A staff undo of a wrong booking or reschedule; one per undone event, for analytics."""

    class Kind(models.TextChoices):
        BOOKING = "booking", _("Booking")
        RESCHEDULE = "reschedule", _("Reschedule")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="+", verbose_name=_("appointment")
    )
    undone_event = models.OneToOneField(
        AppointmentEvent,
        on_delete=models.CASCADE,
        related_name="rollback",
        verbose_name=_("undone event"),
    )
    kind = models.CharField(_("what was undone"), max_length=12, choices=Kind.choices)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rolled back by"),
    )
    reason = EncryptedCharField(_("reason"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)

    class Meta:
        ordering = ["occurred_at"]
        verbose_name = _("rollback")
        verbose_name_plural = _("rollbacks")

    def __str__(self):
        return f"rollback of {self.kind} {self.undone_event_id}"


class Hold(models.Model):
    """A slot kept for a few minutes while a patient confirms; occupies like an appointment."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("room")
    )
    equipment_ids = models.JSONField(_("equipment ids"), default=list, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    channel = models.CharField(_("channel"), max_length=12, choices=AppointmentChannel.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")

    def __str__(self):
        return f"hold {self.public_id} until {self.expires_at}"


class Occupancy(models.Model):
    """One resource busy over `[starts_at, ends_at)` for one appointment or one hold.

    Rows exist only while the time is taken: cancelling, rolling back or releasing a hold
    deletes them, so the exclusion constraint needs no status condition. Expired holds keep
    their rows (a constraint cannot read the clock) until a booking transaction clears them.
    """

    resource_kind = models.CharField(_("resource type"), max_length=1, choices=ResourceKind.choices)
    resource_id = models.BigIntegerField(_("resource id"))
    # Meta.indexes has (clinic, starts_at).
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("clinic")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="occupancy",
        verbose_name=_("appointment"),
    )
    # Meta.indexes has it for hold rows only: an appointment's rows (most) would add nulls.
    hold = models.ForeignKey(
        Hold,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="occupancy",
        db_index=False,
        verbose_name=_("hold"),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("occupancy interval")
        verbose_name_plural = _("occupancy intervals")
        indexes = [
            models.Index(fields=["resource_kind", "resource_id", "starts_at"]),
            models.Index(fields=["clinic", "starts_at"]),
            # The day board's change check reads the holds of one day (`day_board_version`).
            models.Index(
                fields=["starts_at"],
                condition=Q(hold__isnull=False),
                name="occupancy_hold_day_idx",
            ),
            models.Index(
                fields=["hold"], condition=Q(hold__isnull=False), name="occupancy_hold_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="occupancy_ends_after_start"
            ),
            models.CheckConstraint(
                condition=(Q(appointment__isnull=False) & Q(hold__isnull=True))
                | (Q(appointment__isnull=True) & Q(hold__isnull=False)),
                name="occupancy_one_owner",
            ),
            PostgresExclusionConstraint(
                name="occupancy_no_overlap",
                expressions=[
                    ("resource_kind", RangeOperators.EQUAL),
                    ("resource_id", RangeOperators.EQUAL),
                    (
                        TsTzRange("starts_at", "ends_at", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.resource_kind}:{self.resource_id} {self.starts_at}–{self.ends_at}"
