"""Joining and leaving the cancellation waitlist. Offering freed slots to waiting patients is
the notifications issue's part; this keeps the entries it works from."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient, User
from portal.types import Actor
from scheduling.choices import WaitlistStatus
from scheduling.errors import InvalidInput, InvalidTransition, PolicyViolation
from scheduling.models import Doctor, Service, WaitlistEntry
from scheduling.selectors.availability import MAX_RANGE_DAYS
from scheduling.services.booking import check_may_act_for

MAX_ACTIVE_ENTRIES = 5  # per patient


@transaction.atomic
def waitlist_join(
    *,
    patient: Patient,
    service: Service,
    date_from: datetime.date,
    date_to: datetime.date,
    actor: Actor,
    doctor: Doctor | None = None,
    clinic: Clinic | None = None,
) -> WaitlistEntry:
    """Put `patient` on the waitlist of `service` (with `doctor` / in `clinic` when given)
    from `date_from` to `date_to`, local dates. An active entry for the same service, doctor
    and clinic is widened to cover the dates instead of duplicated."""
    check_may_act_for(actor, patient)
    today = timezone.localdate()
    if date_from < today or date_to < date_from:
        raise InvalidInput(code="invalid_range")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(code="range_too_long", max_days=MAX_RANGE_DAYS)
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))
    active = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.ACTIVE)
    same = active.filter(service=service, doctor=doctor, clinic=clinic).first()
    if same is not None:
        same.date_from = min(same.date_from, date_from)
        same.date_to = max(same.date_to, date_to)
        same.save(update_fields=["date_from", "date_to"])
        return same
    if active.count() >= MAX_ACTIVE_ENTRIES:
        raise PolicyViolation(
            _("You are on the waiting list %(limit)d times already; leave one of them first."),
            code="too_many_waitlist_entries",
            limit=MAX_ACTIVE_ENTRIES,
        )
    return WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        doctor=doctor,
        clinic=clinic,
        date_from=date_from,
        date_to=date_to,
        created_by=actor if isinstance(actor, User) else None,
        created_at=timezone.now(),
    )


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, actor: Actor) -> WaitlistEntry:
    """Take the patient off the list; nothing more will be offered for this entry."""
    check_may_act_for(actor, entry.patient)
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status != WaitlistStatus.ACTIVE:
        raise InvalidTransition(code="waitlist_entry_closed")
    locked.status = WaitlistStatus.CANCELLED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    return locked
