import hashlib
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.choices import ConsentChannel, ConsentPurpose, SignatureMethod, SignerKind

from .base import TimeStampedModel
from .patients import Patient


class ConsentDocument(TimeStampedModel):
    """A published text of one consent purpose in one language. Texts are never edited: a
    change is a new version, so every signature points at the exact words signed."""

    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    version = models.CharField(_("version"), max_length=20)
    language = models.CharField(_("language"), max_length=8, default="ru")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, editable=False)
    published_at = models.DateTimeField(_("published"))
    is_required = models.BooleanField(_("required to use the portal"), default=False)

    class Meta:
        ordering = ["purpose", "-published_at"]
        verbose_name = _("consent document")
        verbose_name_plural = _("consent documents")
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version", "language"], name="consent_document_unique_version"
            )
        ]

    def __str__(self):
        return f"{self.title} v{self.version} ({self.language})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sha256 = hashlib.sha256(self.body.encode("utf-8")).hexdigest()
        super().save(*args, **kwargs)


class Consent(TimeStampedModel):
    """One signed consent for one purpose. Withdrawal sets `withdrawn_at`; rows are kept."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="consents", verbose_name=_("patient")
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    document = models.ForeignKey(
        ConsentDocument,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("consent document"),
    )
    document_version = models.CharField(_("document version"), max_length=20)
    document_sha256 = models.CharField(_("SHA-256 of the signed text"), max_length=64)
    signer_kind = models.CharField(_("signed by"), max_length=20, choices=SignerKind.choices)
    representative = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("representative"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel.choices)
    signature_method = models.CharField(
        _("signature method"), max_length=20, choices=SignatureMethod.choices
    )
    signed_at = models.DateTimeField(_("signed at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_channel = models.CharField(
        _("withdrawal channel"), max_length=10, choices=ConsentChannel.choices, blank=True
    )

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(signer_kind="patient", representative__isnull=True)
                | Q(signer_kind="representative", representative__isnull=False),
                name="consent_representative_matches_signer",
            ),
        ]

    def __str__(self):
        return f"{self.purpose} v{self.document_version}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
