"""Write paths of integration tokens (`portal.models.IntegrationToken`): issuing, revoking,
recording use, and checking a presented token.

Invariants kept here:
- the token is returned once, at issue; only its SHA-256 digest is stored;
- each token acts through a login of its own, registrar of the clinic it is limited to (or
  of every active clinic, for a network-wide token), with no password and no other role;
- a revoked token's login is deactivated with it; issuing and revoking are audited.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from hmac import compare_digest

from django.db import transaction
from django.utils import timezone

from portal.choices import AuditAction, IntegrationScope, Role
from portal.models import Clinic, IntegrationToken, StaffMembership, User
from portal.services.audit import audit_record
from portal.types import Actor

TOKEN_PREFIX = "mfi_"  # noqa: S105 - a marker of the format, not a secret
# The looked-up part: the fixed prefix and 8 random characters.
LOOKUP_LENGTH = len(TOKEN_PREFIX) + 8
USE_GRANULARITY = datetime.timedelta(minutes=1)


class TokenRefused(Exception):
    """The presented token may not be used; `reason` says why (for the caller's message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def integration_token_issue(
    *,
    name: str,
    scopes: list[str],
    clinic: Clinic | None,
    expires_at: datetime.datetime | None,
    actor: Actor,
) -> tuple[IntegrationToken, str]:
    """A new token: (the stored row, the token to show once)."""
    wanted = [scope.value for scope in IntegrationScope if scope.value in set(scopes)]
    if not wanted:
        raise ValueError("an integration token needs at least one scope")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    login = User(email=f"integration-{secrets.token_hex(8)}@integrations.invalid")
    login.set_unusable_password()
    login.save()
    clinics = [clinic] if clinic is not None else list(Clinic.objects.filter(is_active=True))
    StaffMembership.objects.bulk_create(
        StaffMembership(user=login, role=Role.REGISTRAR, clinic=c) for c in clinics
    )
    row = IntegrationToken.objects.create(
        name=name,
        scopes=wanted,
        clinic=clinic,
        login=login,
        prefix=token[:LOOKUP_LENGTH],
        digest=token_digest(token),
        created_by=actor if isinstance(actor, User) else None,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="integration_token",
        object_id=row.public_id,
        changed_fields=["name", "scopes", "clinic", "expires_at"],
    )
    return row, token


@transaction.atomic
def integration_token_revoke(*, token: IntegrationToken, actor: Actor) -> bool:
    """Revoke `token` for good; False when it already was."""
    now = timezone.now()
    if not IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now
    ):
        return False
    User.objects.filter(pk=token.login_id).update(is_active=False)
    token.revoked_at = now
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="integration_token",
        object_id=token.public_id,
        changed_fields=["revoked_at"],
    )
    return True


def integration_token_check(text: str) -> IntegrationToken:
    """The live token `text` is, its use recorded; `TokenRefused` otherwise."""
    if not text.startswith(TOKEN_PREFIX) or len(text) < LOOKUP_LENGTH:
        raise TokenRefused("invalid")
    row = (
        IntegrationToken.objects.select_related("login").filter(prefix=text[:LOOKUP_LENGTH]).first()
    )
    if row is None or not compare_digest(row.digest, token_digest(text)):
        raise TokenRefused("invalid")
    now = timezone.now()
    if row.revoked_at is not None or not row.login.is_active:
        raise TokenRefused("revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused("expired")
    if row.last_used_at is None or now - row.last_used_at >= USE_GRANULARITY:
        # At most one write a minute: the list shows when the system last called.
        IntegrationToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
