import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.choices import CLINIC_SCOPED_ROLES, Role, VatMode

from .base import TimeStampedModel


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


class LegalEntity(TimeStampedModel):
    """The organisation that signs contracts and issues receipts for one or more clinics."""

    name = models.CharField(_("full name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=120)
    inn = models.CharField(_("INN"), max_length=12)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    legal_address = models.CharField(_("legal address"), max_length=300)
    medical_license = models.CharField(_("medical licence"), max_length=120, blank=True)
    vat_mode = models.CharField(
        _("VAT mode"), max_length=8, choices=VatMode.choices, default=VatMode.NONE
    )

    class Meta:
        verbose_name = _("legal entity")
        verbose_name_plural = _("legal entities")

    def __str__(self):
        return self.short_name


class Clinic(TimeStampedModel):
    """One unit of the network: an address, a time zone in which its slots are computed."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("URL slug"), unique=True, max_length=60)
    name = models.CharField(_("name"), max_length=200)
    legal_entity = models.ForeignKey(
        LegalEntity,
        on_delete=models.PROTECT,
        related_name="clinics",
        verbose_name=_("legal entity"),
    )
    city = models.CharField(_("city"), max_length=100)
    address = models.CharField(_("address"), max_length=300)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    registry_id = models.CharField(
        _("registry id"), max_length=64, blank=True, help_text=_("Branch id in the state registry.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["city", "name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class StaffMembership(TimeStampedModel):
    """A role a user holds in one clinic, or network-wide when `clinic` is empty."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("clinic"),
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "clinic"],
                condition=Q(clinic__isnull=False),
                name="membership_unique_in_clinic",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(clinic__isnull=True),
                name="membership_unique_network_wide",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=[r.value for r in CLINIC_SCOPED_ROLES])
                | Q(clinic__isnull=False),
                name="membership_clinic_role_needs_clinic",
            ),
        ]

    def __str__(self):
        where = self.clinic or _("whole network")
        return f"{self.get_role_display()} @ {where}"
