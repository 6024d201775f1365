"""The head nurse's quota editor: quotas of a clinic and the limits of single days.

What the booking engine honours is in `scheduling.services.quotas` and the availability
selectors; these services only write what they read: `Quota` rows, and the `day_limit` of a
quota's `QuotaCounter` for one local day (the counter row is created if the day has none).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.choices import QUOTA_CHANNELS
from scheduling.errors import InvalidInput
from scheduling.models import Doctor, Quota, QuotaCounter, Service
from scheduling.selectors.availability import EARLIEST_DATE, LATEST_DATE

# A day's bookings through one channel: far above any real clinic, low enough to be a typo.
MAX_QUOTA_LIMIT = 1000
MAX_RELEASE_HOURS = 24 * 30


def _check_numbers(*, limit: int, release_before_hours: int | None) -> None:
    if not 0 <= limit <= MAX_QUOTA_LIMIT:
        raise InvalidInput(
            _("A limit is a whole number from 0 to %(max)d.") % {"max": MAX_QUOTA_LIMIT},
            code="invalid_limit",
        )
    if release_before_hours is not None and not 0 <= release_before_hours <= MAX_RELEASE_HOURS:
        raise InvalidInput(
            _("Release the limit at most %(max)d hours before the slot.")
            % {"max": MAX_RELEASE_HOURS},
            code="invalid_release",
        )


def _audit(quota: Quota, *, actor: Actor, action: str, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="scheduling.quota",
        object_id=quota.pk,
        changed_fields=fields,
        clinic=quota.clinic_id,
    )


@transaction.atomic
def quota_create(
    *,
    clinic: Clinic,
    channel: str,
    limit: int,
    actor: Actor,
    doctor: Doctor | None = None,
    service: Service | None = None,
    release_before_hours: int | None = None,
) -> Quota:
    """A new quota: at most `limit` bookings a day through `channel` in `clinic`, for one
    doctor and/or service (None: any).

    Invariants: the doctor works in the clinic; the service is active; one quota per clinic,
    doctor, service and channel (two would only hide each other); `InvalidInput` otherwise.
    """
    if channel not in QUOTA_CHANNELS:
        raise InvalidInput(_("Choose a booking channel."), code="invalid_channel")
    _check_numbers(limit=limit, release_before_hours=release_before_hours)
    if doctor is not None and not doctor.clinics.filter(pk=clinic.pk).exists():
        raise InvalidInput(_("This doctor does not work in this clinic."), code="foreign_doctor")
    if service is not None and not service.is_active:
        raise InvalidInput(_("This service is not offered any more."), code="inactive_service")
    twin = Quota.objects.filter(clinic=clinic, channel=channel, doctor=doctor, service=service)
    if twin.exists():
        raise InvalidInput(
            _("This clinic already has a quota for this doctor, service and channel."),
            code="duplicate_quota",
        )
    quota = Quota.objects.create(
        clinic=clinic,
        channel=channel,
        limit=limit,
        doctor=doctor,
        service=service,
        release_before_hours=release_before_hours,
    )
    _audit(
        quota,
        actor=actor,
        action=AuditAction.CREATE,
        fields=["channel", "limit", "doctor", "service", "release_before_hours"],
    )
    return quota


@transaction.atomic
def quota_update(
    *, quota: Quota, limit: int, release_before_hours: int | None, actor: Actor
) -> Quota:
    """Change the standing limit and its release time. Whom and which channel a quota counts
    stays as created: its counters count those bookings (a different scope is a new quota).
    Days with a limit of their own keep it."""
    _check_numbers(limit=limit, release_before_hours=release_before_hours)
    quota.limit = limit
    quota.release_before_hours = release_before_hours
    quota.save(update_fields=["limit", "release_before_hours", "updated_at"])
    _audit(quota, actor=actor, action=AuditAction.UPDATE, fields=["limit", "release_before_hours"])
    return quota


@transaction.atomic
def quota_delete(*, quota: Quota, actor: Actor) -> None:
    """Remove a quota with its counters and day limits; bookings already made stay."""
    _audit(quota, actor=actor, action=AuditAction.DELETE, fields=[])
    quota.delete()


@transaction.atomic
def quota_day_set(
    *, quota: Quota, day: datetime.date, limit: int | None, actor: Actor
) -> QuotaCounter:
    """Set the limit of one local day (None: back to the quota's own limit).

    The day's counter row is locked (created first if missing) as a booking locks it, so a
    booking and this change of the same day wait for each other. A limit below the bookings
    already counted is allowed: nothing booked is undone, further bookings are refused.
    """
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidInput(_("Choose a date within the calendar."), code="invalid_date")
    if limit is not None:
        _check_numbers(limit=limit, release_before_hours=None)
    QuotaCounter.objects.bulk_create(
        [QuotaCounter(quota=quota, date=day, used=0)], ignore_conflicts=True
    )
    counter = QuotaCounter.objects.select_for_update().get(quota=quota, date=day)
    counter.day_limit = limit
    counter.save(update_fields=["day_limit"])
    _audit(quota, actor=actor, action=AuditAction.UPDATE, fields=["day_limit"])
    return counter
