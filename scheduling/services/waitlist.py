"""Joining and leaving the cancellation waitlist. Offering freed slots to waiting patients is
the notifications issue's part; this keeps the entries it works from."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction
from portal.models import Clinic, Patient, User
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.choices import WaitlistStatus
from scheduling.errors import InvalidInput, InvalidTransition, PolicyViolation
from scheduling.models import Doctor, Service, Specialty, WaitlistEntry
from scheduling.selectors.availability import MAX_RANGE_DAYS
from scheduling.services.booking import check_may_act_for

MAX_ACTIVE_ENTRIES = 5  # per patient


@transaction.atomic
def waitlist_join(
    *,
    patient: Patient,
    date_from: datetime.date,
    date_to: datetime.date,
    actor: Actor,
    service: Service | None = None,
    specialty: Specialty | None = None,
    doctor: Doctor | None = None,
    clinic: Clinic | None = None,
    city: str = "",
) -> WaitlistEntry:
    """Put `patient` on the waitlist of `service`, or of any service of `specialty` (exactly
    one of the two), with `doctor` when given, in `clinic`, or in any clinic of `city` (a
    city a clinic of the network is in), or anywhere when neither is given; from `date_from`
    to `date_to`, local dates. An active entry for the same choices is widened to cover the
    dates instead of duplicated."""
    check_may_act_for(actor, patient)
    if (service is None) == (specialty is None):
        raise InvalidInput(code="service_or_specialty")
    city = "" if clinic is not None else city.strip()
    if city and not Clinic.objects.filter(city=city, is_active=True).exists():
        raise InvalidInput(code="unknown_city", field="city")
    today = timezone.localdate()
    if date_from < today or date_to < date_from:
        raise InvalidInput(code="invalid_range")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(code="range_too_long", max_days=MAX_RANGE_DAYS)
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))
    active = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.ACTIVE)
    same = active.filter(
        service=service, specialty=specialty, doctor=doctor, clinic=clinic, city=city
    ).first()
    if same is not None:
        same.date_from = min(same.date_from, date_from)
        same.date_to = max(same.date_to, date_to)
        same.save(update_fields=["date_from", "date_to"])
        _audit(same, action=AuditAction.UPDATE, actor=actor, fields=["date_from", "date_to"])
        return same
    if active.count() >= MAX_ACTIVE_ENTRIES:
        raise PolicyViolation(
            _("You are on the waiting list %(limit)d times already; leave one of them first."),
            code="too_many_waitlist_entries",
            limit=MAX_ACTIVE_ENTRIES,
        )
    entry = WaitlistEntry.objects.create(
        patient=patient,
        service=service,
        specialty=specialty,
        doctor=doctor,
        clinic=clinic,
        city=city,
        date_from=date_from,
        date_to=date_to,
        created_by=actor if isinstance(actor, User) else None,
        created_at=timezone.now(),
    )
    _audit(entry, action=AuditAction.CREATE, actor=actor, fields=["status"])
    return entry


def _audit(entry: WaitlistEntry, *, action: str, actor: Actor, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="scheduling.waitlist_entry",
        object_id=str(entry.public_id),
        patient_ids=[entry.patient.public_id],
        changed_fields=fields,
        clinic=entry.clinic_id,
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
