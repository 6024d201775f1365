"""Write paths of API tokens (django-rest-knox, `portal.models.ApiToken`): issuing one per
sign-in, revoking one or all.

Invariants kept here:
- the token itself is returned once, at issue; only knox's SHA-512 digest is stored;
- a token expires after `API_TOKEN_TTL` (patients) or the shorter `API_TOKEN_TTL_STAFF`
  (staff), and remembers whether its sign-in passed a second factor;
- a sign-in removes its login's expired tokens, so the device list holds live ones.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.auth.policy import is_staff_login
from portal.models import ApiToken, User

# Known clients first, then platforms, in the order a user agent is searched.
_CLIENTS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("YaBrowser/", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("okhttp/", "Android app"),
    ("CFNetwork/", "iOS app"),
    ("curl/", "curl"),
    ("python-requests/", "Python"),
    ("python-httpx/", "Python"),
)
_PLATFORMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"^[A-Za-z][\w.\-]{0,40}")


def device_label(user_agent: str) -> str:
    """A short, coarse name of the client ("Firefox · Android"), never the raw user agent:
    the device list needs to be recognisable, not to fingerprint anyone."""
    client = next((name for token, name in _CLIENTS if token in user_agent), "")
    platform = next((name for token, name in _PLATFORMS if token in user_agent), "")
    if not client:
        match = _PRODUCT.match(user_agent.strip())
        client = match.group(0) if match else ""
    if client and platform:
        return f"{client} · {platform}"[:80]
    return (client or platform)[:80]


def api_token_ttl(*, user: User) -> timedelta:
    staff: timedelta = settings.API_TOKEN_TTL_STAFF
    patient: timedelta = settings.API_TOKEN_TTL
    return staff if is_staff_login(user) else patient


@transaction.atomic
def api_token_issue(*, user: User, user_agent: str, mfa_verified: bool) -> tuple[ApiToken, str]:
    """A new token for one sign-in of `user`: (the stored row, the token to hand out once)."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expiry__lt=now).delete()
    token, secret = ApiToken.objects.create(
        user,
        expiry=api_token_ttl(user=user),
        label=device_label(user_agent or ""),
        mfa_verified=mfa_verified,
    )
    return cast(ApiToken, token), cast(str, secret)


def api_token_revoke(*, user: User, public_id: UUID) -> bool:
    """Delete `user`'s token `public_id`; False when there is no such token of theirs."""
    deleted, _by_model = ApiToken.objects.filter(user=user, public_id=public_id).delete()
    return bool(deleted)


def api_tokens_revoke_all(*, user: User) -> int:
    """Delete every token of `user` (password changed or reset, login deactivated)."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return int(deleted)


def api_token_delete(*, token: ApiToken) -> None:
    """Delete one token the API refused (expired, idle, issued under an old password)."""
    ApiToken.objects.filter(pk=token.pk).delete()


def api_token_used(*, token: ApiToken) -> None:
    """Record a request made with `token`; written at most once a minute (or a tenth of the
    staff idle timeout, if shorter) to spare a write per request."""
    now = timezone.now()
    granularity = min(timedelta(minutes=1), settings.STAFF_IDLE_TIMEOUT / 10)
    if token.last_used_at is not None and now - token.last_used_at < granularity:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - granularity)
    ).update(last_used_at=now)
    token.last_used_at = now
