import datetime
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.choices import FamilyRelation, IdDocumentType, LegalBasis, Sex
from portal.crypto import blind_index
from portal.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField
from portal.normalize import normalize_document_number, normalize_name, phone_last_digits

from .base import TimeStampedModel
from .clinics import Clinic

# Blind-index kinds: each is a separate HMAC domain.
BIDX_PHONE = "phone"
BIDX_EMAIL = "email"
BIDX_NAME_BIRTH = "name+birth"
BIDX_LAST4_SURNAME = "last4+surname"
BIDX_DOCUMENT = "document"


def name_birth_index(last_name: str, first_name: str, birth_date: datetime.date) -> str:
    key = f"{normalize_name(last_name)}|{normalize_name(first_name)}|{birth_date.isoformat()}"
    return blind_index(BIDX_NAME_BIRTH, key)


def last4_surname_index(last4: str, last_name: str) -> str:
    return blind_index(BIDX_LAST4_SURNAME, f"{last4}|{normalize_name(last_name)}")


def document_index(number: str) -> str:
    """The index of an ID document number as typed in any spacing: "45 10 123456",
    "4510-123456" and "4510123456" are one number ("" when it has no letter or digit)."""
    key = normalize_document_number(number)
    return blind_index(BIDX_DOCUMENT, key) if key else ""


def blind_indexes_of(
    *,
    phone: str,
    email: str,
    last_name: str,
    first_name: str,
    birth_date: datetime.date | None,
    id_document_number: str = "",
) -> dict[str, str]:
    """The blind-index columns of a profile with these values (already normalised)."""
    return {
        "phone_bidx": blind_index(BIDX_PHONE, phone) if phone else "",
        "email_bidx": blind_index(BIDX_EMAIL, email) if email else "",
        "name_birth_bidx": (
            name_birth_index(last_name, first_name, birth_date)
            if last_name and first_name and birth_date
            else ""
        ),
        "last4_surname_bidx": (
            last4_surname_index(phone_last_digits(phone), last_name) if phone and last_name else ""
        ),
        "document_bidx": document_index(id_document_number or ""),
    }


class Patient(TimeStampedModel):
    """The one profile of a person, shared by every app.

    Every identifying value is encrypted at rest; search goes through the `*_bidx` blind-index
    columns, which `save()` keeps in step with the plaintext. Phones are stored in E.164 and
    emails normalised (see `portal.normalize`); services validate before saving.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient",
        verbose_name=_("user account"),
    )
    last_name = EncryptedCharField(_("last name"), max_length=100)
    first_name = EncryptedCharField(_("first name"), max_length=100)
    middle_name = EncryptedCharField(_("middle name"), max_length=100, blank=True)
    birth_date = EncryptedDateField(_("date of birth"), null=True, blank=True)
    sex = EncryptedCharField(_("sex"), max_length=10, blank=True, choices=Sex.choices)
    phone = EncryptedCharField(_("phone"), max_length=16, blank=True)
    email = EncryptedCharField(_("email"), max_length=254, blank=True)
    address = EncryptedTextField(_("address"), max_length=500, blank=True)
    id_document_type = models.CharField(
        _("ID document"), max_length=20, blank=True, choices=IdDocumentType.choices
    )
    id_document_number = EncryptedCharField(_("document number"), max_length=40, blank=True)
    oms_policy = EncryptedCharField(_("OMS policy"), max_length=20, blank=True)
    dms_policy = EncryptedCharField(_("DMS policy"), max_length=40, blank=True)
    dms_insurer = models.CharField(_("DMS insurer"), max_length=120, blank=True)
    snils = EncryptedCharField(_("SNILS"), max_length=14, blank=True)
    notes = EncryptedTextField(_("notes"), max_length=2000, blank=True)

    phone_bidx = models.CharField(
        _("phone search index"), max_length=64, blank=True, db_index=True, editable=False
    )
    email_bidx = models.CharField(
        _("email search index"), max_length=64, blank=True, db_index=True, editable=False
    )
    name_birth_bidx = models.CharField(
        _("name and date of birth search index"),
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
    )
    last4_surname_bidx = models.CharField(
        _("phone last digits and surname search index"),
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
    )
    document_bidx = models.CharField(
        _("document number search index"),
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
    )

    home_clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home clinic"),
    )
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    # A profile merged into another stays as a tombstone pointing to the survivor: old links
    # and audit events still resolve, but its blind indexes are blank, so no search, sign-in
    # or lead ever finds it again.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_profiles",
        verbose_name=_("merged into"),
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)

    BLIND_INDEX_FIELDS = (
        "phone_bidx",
        "email_bidx",
        "name_birth_bidx",
        "last4_surname_bidx",
        "document_bidx",
    )
    PII_FIELDS = (
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "sex",
        "phone",
        "email",
        "address",
        "id_document_number",
        "oms_policy",
        "dms_policy",
        "snils",
        "notes",
    )

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            # The few profiles that no longer count as people (anonymised or merged): counts
            # over many patients leave these out without reading every profile.
            models.Index(
                fields=["id"],
                condition=Q(anonymised_at__isnull=False) | Q(merged_into__isnull=False),
                name="patient_gone",
            )
        ]

    def __str__(self):
        return self.short_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name} {initials}".strip()

    def compute_blind_indexes(self) -> dict[str, str]:
        if self.merged_into_id is not None:
            return dict.fromkeys(self.BLIND_INDEX_FIELDS, "")
        return blind_indexes_of(
            phone=self.phone,
            email=self.email,
            last_name=self.last_name,
            first_name=self.first_name,
            birth_date=self.birth_date,
            id_document_number=self.id_document_number,
        )

    def refresh_blind_indexes(self) -> None:
        for field, value in self.compute_blind_indexes().items():
            setattr(self, field, value)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Derived columns: always recomputed so they can never drift from the plaintext.
        self.refresh_blind_indexes()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | set(self.BLIND_INDEX_FIELDS)
        super().save(*args, **kwargs)


class FamilyLink(TimeStampedModel):
    """`guardian` may manage `dependant`'s visits and documents, on `legal_basis`."""

    guardian = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="dependant_links",
        verbose_name=_("guardian"),
    )
    dependant = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="guardian_links",
        verbose_name=_("dependant"),
    )
    relation = models.CharField(_("relation"), max_length=20, choices=FamilyRelation.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    basis_document = EncryptedCharField(_("basis document"), max_length=200, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("family link")
        verbose_name_plural = _("family links")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "dependant"], name="family_link_unique"),
            models.CheckConstraint(condition=~Q(guardian=F("dependant")), name="family_not_self"),
        ]

    def __str__(self):
        return f"{self.guardian_id} → {self.dependant_id} ({self.relation})"
