"""How a patient wants to be written to: per-channel preferences and the Telegram chat link."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.choices import ContactChannel
from portal.crypto import blind_index
from portal.fields import EncryptedCharField

from .base import TimeStampedModel
from .patients import Patient

# The blind-index kind of a Telegram chat id.
BIDX_TELEGRAM_CHAT = "telegram-chat"


def chat_index(chat_id: str) -> str:
    """The blind index a Telegram chat id is found by."""
    return blind_index(BIDX_TELEGRAM_CHAT, str(chat_id).strip())


class ContactPreference(TimeStampedModel):
    """The patient's choice for one channel: care messages (confirmations, reminders) and
    marketing on or off, and a STOP received on that channel.

    A channel without a row is on for care and follows the advertising consent for marketing.
    `stopped_at` is set by a STOP reply (SMS or Telegram) and cleared by START or by turning a
    kind on again in the portal; while it is set nothing but the answer to STOP/HELP/START goes
    out on the channel.
    """

    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="contact_preferences",
        verbose_name=_("patient"),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=ContactChannel.choices)
    care = models.BooleanField(_("visit messages"), default=True)
    marketing = models.BooleanField(_("news and offers"), default=True)
    stopped_at = models.DateTimeField(_("stopped by a STOP reply at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact preference")
        verbose_name_plural = _("contact preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "channel"], name="contact_preference_one_per_channel"
            )
        ]

    def __str__(self):
        return f"{self.patient_id} {self.channel}"


class MessengerLink(TimeStampedModel):
    """A Telegram chat linked to a patient with a one-time code from the portal.

    The chat id is PII: encrypted, found through `chat_bidx`. One chat belongs to one patient
    and a patient has one chat; linking again replaces the old link.
    """

    patient = models.OneToOneField(
        Patient,
        on_delete=models.CASCADE,
        related_name="messenger_link",
        verbose_name=_("patient"),
    )
    chat_id = EncryptedCharField(_("Telegram chat"), max_length=32)
    chat_bidx = models.CharField(
        _("Telegram chat search index"), max_length=64, unique=True, editable=False
    )

    class Meta:
        verbose_name = _("Telegram link")
        verbose_name_plural = _("Telegram links")

    def __str__(self):
        return f"telegram link of {self.patient_id}"


class MessengerLinkCode(models.Model):
    """A short-lived, single-use code the portal shows to link a Telegram chat. Only a keyed
    digest of the code is stored; `used_at` marks it spent."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    code_digest = models.CharField(_("keyed digest of the code"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("spent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram link code")
        verbose_name_plural = _("Telegram link codes")
        indexes = [
            models.Index(
                fields=["patient"], condition=Q(used_at__isnull=True), name="link_code_open_idx"
            )
        ]

    def __str__(self):
        return f"link code of {self.patient_id}"
