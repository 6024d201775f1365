"""Secret feed addresses: issue, show again, rotate, and resolve a request's secret.

Only patients (their and their dependants' visits) and doctors (their working days) have a
feed; everyone else is refused with `PermissionDenied`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import permissions
from scheduling.models import Appointment, CalendarFeedToken, Doctor

FEED_PAST_DAYS = 30
FEED_MAX_EVENTS = 500
_SECRET_BYTES = 24


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def doctor_of(user) -> Doctor | None:
    try:
        return user.doctor_profile
    except Doctor.DoesNotExist:
        return None


def may_have_feed(user) -> bool:
    return permissions.is_patient(user) or doctor_of(user) is not None


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return secret, _hash(secret)


@transaction.atomic
def calendar_feed_secret(*, user) -> str:
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
def calendar_feed_rotate(*, user) -> str:
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


def feed_owner(secret: str):
    """The user whose feed `secret` opens, or None (unknown, rotated, or inactive user)."""
    if not secret or len(secret) > 100:
        return None
    feed = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=_hash(secret), user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, _hash(secret)):
        return None
    return feed.user


def feed_appointments(user) -> QuerySet[Appointment]:
    """A patient's and their dependants' visits, or a doctor's own: recent and upcoming."""
    since = timezone.now() - datetime.timedelta(days=FEED_PAST_DAYS)
    condition = Q(pk__in=[])
    if permissions.is_patient(user):
        condition |= Q(patient__in=permissions.patients_managed_by(user))
    doctor = doctor_of(user)
    if doctor is not None:
        condition |= Q(doctor=doctor)
    return (
        Appointment.objects.filter(condition, starts_at__gte=since)
        .exclude(status="rolled_back")
        .select_related("patient", "doctor", "clinic", "service", "room")
        .order_by("starts_at")[:FEED_MAX_EVENTS]
    )
