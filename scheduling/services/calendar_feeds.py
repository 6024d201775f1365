"""Calendar feeds, write side: issue a user's secret feed address and rotate it.

Only those `may_have_feed` allows (patients and doctors) get one; everyone else is refused with
`PermissionDenied`. Reading a feed is `scheduling.selectors.calendar_feeds`.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import User
from scheduling.models import CalendarFeedToken
from scheduling.selectors.calendar_feeds import may_have_feed, secret_digest

_SECRET_BYTES = 24


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return secret, secret_digest(secret)


@transaction.atomic
def calendar_feed_secret(*, user: User) -> str:
    """The user's current feed secret, issued on first use."""
    if not may_have_feed(user):
        raise PermissionDenied
    feed = CalendarFeedToken.objects.filter(user=user).first()
    if feed is not None:
        return feed.secret
    secret, digest = _new_secret()
    now = timezone.now()
    try:
        with transaction.atomic():
            CalendarFeedToken.objects.create(
                user=user, token_hash=digest, secret=secret, created_at=now, rotated_at=now
            )
    except IntegrityError:
        # Two first requests at once: the other one won; show its secret.
        return CalendarFeedToken.objects.get(user=user).secret
    return secret


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> str:
    """Replace the secret; the previous address stops working at once."""
    if not may_have_feed(user):
        raise PermissionDenied
    secret, digest = _new_secret()
    now = timezone.now()
    feed = CalendarFeedToken.objects.select_for_update().filter(user=user).first()
    if feed is None:
        CalendarFeedToken.objects.create(
            user=user, token_hash=digest, secret=secret, created_at=now, rotated_at=now
        )
        return secret
    feed.token_hash, feed.secret, feed.rotated_at = digest, secret, now
    feed.save(update_fields=["token_hash", "secret", "rotated_at"])
    return secret
