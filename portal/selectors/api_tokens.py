"""Read paths of API tokens: a login's own devices."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from portal.models import ApiToken, User


def api_tokens_of(*, user: User) -> list[ApiToken]:
    """`user`'s live tokens (not yet expired), newest first; never anyone else's."""
    now = timezone.now()
    return list(
        ApiToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .order_by("-created", "public_id")
    )
