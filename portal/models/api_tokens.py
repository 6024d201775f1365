"""API tokens: django-rest-knox's hashed tokens with the fields a device list needs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken, AuthTokenManager
from knox.settings import CONSTANTS

if TYPE_CHECKING:
    from portal.models.users import User


class ApiTokenManager(AuthTokenManager):
    """knox's manager, which returns `(instance, token)` from `create(user)`.

    Every token remembers the password it was issued under (Django's session hash of the
    user), so a token created by any path, knox's own API included, dies with a password change.
    """

    def create(self, user, *args: Any, **kwargs: Any):
        kwargs.setdefault("password_marker", user.get_session_auth_hash())
        # Issuing is the token's first use: the first request after it writes nothing.
        kwargs.setdefault("last_used_at", timezone.now())
        return super().create(user, *args, **kwargs)


class ApiToken(AbstractAuthToken):
    """One API sign-in (a device): knox keeps only the SHA-512 digest of the token.

    `KNOX_TOKEN_MODEL` points knox at this model. `public_id` names the token in the device
    list and its DELETE URL (the digest is never shown). `password_marker` is Django's session
    auth hash of the user when the token was issued: a changed password no longer matches.
    `mfa_verified` says whether the sign-in that issued the token passed a second factor.
    """

    # knox's base class is untyped, so the fields spell out their types for mypy.
    user: models.ForeignKey[User, User] = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="auth_token_set",
        on_delete=models.CASCADE,
        verbose_name=_("user"),
    )
    # knox's own columns, declared again as knox declares them only to give them labels.
    digest: models.CharField[str, str] = models.CharField(
        _("token digest"), max_length=CONSTANTS.DIGEST_LENGTH, primary_key=True
    )
    token_key: models.CharField[str, str] = models.CharField(
        _("token prefix"),
        max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH,
        db_index=True,
    )
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        _("created"), auto_now_add=True
    )
    expiry: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        _("expires at"), null=True, blank=True
    )
    public_id: models.UUIDField[uuid.UUID, uuid.UUID] = models.UUIDField(
        _("public id"), default=uuid.uuid4, unique=True, editable=False
    )
    label: models.CharField[str, str] = models.CharField(_("device"), max_length=80, blank=True)
    last_used_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        _("last used"), null=True, blank=True
    )
    mfa_verified: models.BooleanField[bool, bool] = models.BooleanField(
        _("signed in with a second factor"), default=False
    )
    password_marker: models.CharField[str, str] = models.CharField(
        _("password marker"), max_length=128, blank=True
    )

    objects: ClassVar[ApiTokenManager] = ApiTokenManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "created"], name="portal_apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.label or _('API token')} ({self.public_id})"
