"""What can be booked and who does it: specialties, services, doctors, rooms, equipment."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic
from portal.models.base import TimeStampedModel
from scheduling.choices import RoomKind


class Specialty(TimeStampedModel):
    """A medical specialty (therapist, cardiologist...); patients search by it."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("URL slug"), unique=True, max_length=60)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self):
        return self.name


class EquipmentType(TimeStampedModel):
    """A kind of device a service needs (ultrasound scanner, ECG machine...)."""

    slug = models.SlugField(_("URL slug"), unique=True, max_length=60)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("equipment type")
        verbose_name_plural = _("equipment types")

    def __str__(self):
        return self.name


class Service(TimeStampedModel):
    """A bookable medical service: how long it takes, what it costs, what it needs."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("code"), unique=True, max_length=60)
    name = models.CharField(_("name"), max_length=200)
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="services", verbose_name=_("specialty")
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"), validators=[MinValueValidator(5)]
    )
    price = models.DecimalField(
        _("price, ₽"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    preparation = models.TextField(_("preparation instructions"), blank=True)
    room_kind = models.CharField(
        _("required room type"), max_length=20, choices=RoomKind.choices, blank=True
    )
    equipment_types = models.ManyToManyField(
        EquipmentType, blank=True, related_name="services", verbose_name=_("required equipment")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Patients who book "a cardiologist" book the specialty's first service (its first visit).
    sort_order = models.PositiveSmallIntegerField(
        _("order in the specialty"),
        default=100,
        help_text=_("The specialty's first service is the one booked when a patient picks it."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="service_duration_min"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_nonneg"),
        ]

    def __str__(self):
        return self.name


class Room(TimeStampedModel):
    """A room of one clinic; a service may need a room of a given kind."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="rooms", verbose_name=_("clinic")
    )
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=RoomKind.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["clinic", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="room_unique_name_in_clinic")
        ]

    def __str__(self):
        return self.name


class Equipment(TimeStampedModel):
    """One piece of equipment in one clinic; it can serve one visit at a time."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="equipment", verbose_name=_("clinic")
    )
    type = models.ForeignKey(
        EquipmentType,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("equipment type"),
    )
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["clinic", "name"]
        verbose_name = _("piece of equipment")
        verbose_name_plural = _("equipment")

    def __str__(self):
        return self.name


class Doctor(TimeStampedModel):
    """A doctor of the network. Names are public information and stored in plain columns.

    Where and when the doctor works comes from schedule rules; `clinics` lists where they may
    be scheduled (and where patients find them).
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doctor_profile",
        verbose_name=_("user account"),
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    specialties = models.ManyToManyField(
        Specialty, related_name="doctors", verbose_name=_("specialties")
    )
    clinics = models.ManyToManyField(
        Clinic, related_name="doctors", blank=True, verbose_name=_("clinics")
    )
    services = models.ManyToManyField(
        Service, related_name="doctors", blank=True, verbose_name=_("services")
    )
    bio = models.TextField(_("short bio"), blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    registry_id = models.CharField(_("registry id"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)
