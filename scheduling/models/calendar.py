"""Secret iCal feed addresses: one per user, rotatable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedCharField


class CalendarFeedToken(models.Model):
    """The secret in a user's iCal feed address.

    Calendar apps cannot sign in, so the address itself is the credential. Requests are looked
    up by `token_hash` (SHA-256 of the secret), never by the secret; the secret is also kept
    encrypted so the account page can show the same address again. Rotating replaces both, and
    the old address stops working at once.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("address secret digest"), max_length=64, unique=True)
    secret = EncryptedCharField(_("address secret"), max_length=64)
    created_at = models.DateTimeField(_("created"))
    rotated_at = models.DateTimeField(_("rotated at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self):
        return f"calendar feed of user {self.user_id}"
