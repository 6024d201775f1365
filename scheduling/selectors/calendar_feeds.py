"""Calendar feeds, read side: who may have a feed, whose feed a secret opens, and the visits
a feed lists. Issuing and rotating secrets is `scheduling.services.calendar_feeds`.

Only patients (their and their dependants' visits) and doctors (their working days) have a
feed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import permissions
from portal.models import User
from scheduling.models import Appointment, CalendarFeedToken, Doctor

FEED_PAST_DAYS = 30
FEED_MAX_EVENTS = 500


def secret_digest(secret: str) -> str:
    """`CalendarFeedToken.token_hash`: feeds are looked up by it, never by the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def doctor_of(user: User) -> Doctor | None:
    try:
        doctor: Doctor = user.doctor_profile
    except Doctor.DoesNotExist:
        return None
    return doctor


def may_have_feed(user: User) -> bool:
    return permissions.is_patient(user) or doctor_of(user) is not None


def feed_owner(secret: str) -> User | None:
    """The user whose feed `secret` opens, or None (unknown, rotated, or inactive user)."""
    if not secret or len(secret) > 100:
        return None
    feed = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=secret_digest(secret), user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, secret_digest(secret)):
        return None
    return feed.user


def feed_appointments(user: User) -> QuerySet[Appointment]:
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
