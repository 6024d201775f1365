"""Keeping the activity facts (`crm.models.activity`) and the leads' outcomes in step.

`activity_refresh` (Celery beat, every minute) reads what changed since its watermark —
appointments, patient profiles and consents by `updated_at` — and rewrites the facts of the
patients touched and the outcomes of the leads whose booked visit changed. A patient's rows are
deleted and rewritten in one transaction from their appointments and consents, so a refresh is
idempotent and running it twice changes nothing. The first run (no state yet) rebuilds
everything; until then readers compute live.

The consent to advertising does not wait for a refresh: `activity_consent_follow` sets it on
the patient's rows in the transaction that signs or withdraws a consent. Both it and a rewrite
lock the patient's profile row first, so a rewrite that read the consents before a signature
committed cannot overwrite what the signature set.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import ActivityState, Lead, PatientActivity, PatientSpecialty
from crm.selectors.activity import STATE, activity_state, changed_since
from crm.selectors.segments import advertising_consents
from portal.models import Consent, Patient
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment

logger = logging.getLogger(__name__)

BATCH = 500
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RefreshResult:
    patients: int
    leads: int


def activity_refresh(*, now: datetime.datetime | None = None) -> RefreshResult:
    """Rewrite the facts of the patients and leads touched since the last run; the first run
    rebuilds everything."""
    now = now or timezone.now()
    state = activity_state()
    if state is None:
        return activity_rebuild(now=now)
    since = changed_since(state)
    patient_ids = set(
        Appointment.objects.filter(updated_at__gt=since).values_list("patient_id", flat=True)
    )
    patient_ids |= set(Patient.objects.filter(updated_at__gt=since).values_list("pk", flat=True))
    # Consents are kept in step as they are signed; this catches writes made around the
    # consents service (the admin site, a data fix).
    patient_ids |= set(
        Consent.objects.filter(updated_at__gt=since).values_list("patient_id", flat=True)
    )
    patients = activity_recompute(patient_ids)
    leads = lead_outcomes_refresh(Lead.objects.filter(booked_appointment__updated_at__gt=since))
    ActivityState.objects.filter(pk=state.pk).update(watermark=now, refreshed_at=timezone.now())
    logger.info("crm activity refreshed: %d patients, %d leads", patients, leads)
    return RefreshResult(patients=patients, leads=leads)


def activity_rebuild(*, now: datetime.datetime | None = None) -> RefreshResult:
    """Rewrite every patient's facts and every lead's outcome, then set the watermark to `now`.
    The state is dropped first, so readers compute live while the rebuild runs."""
    now = now or timezone.now()
    with transaction.atomic():
        ActivityState.objects.filter(name=STATE).delete()
        PatientActivity.objects.all().delete()
        PatientSpecialty.objects.all().delete()
    patient_ids = Patient.objects.filter(
        anonymised_at__isnull=True, merged_into__isnull=True
    ).values_list("pk", flat=True)
    patients = activity_recompute(patient_ids)
    leads = lead_outcomes_refresh(
        Lead.objects.filter(Q(booked_appointment__isnull=False) | Q(outcome_attended=True))
    )
    ActivityState.objects.update_or_create(
        name=STATE, defaults={"watermark": now, "refreshed_at": timezone.now()}
    )
    logger.info("crm activity rebuilt: %d patients, %d leads", patients, leads)
    return RefreshResult(patients=patients, leads=leads)


def activity_recompute(patient_ids: Iterable[int]) -> int:
    """Rewrite these patients' facts from their appointments; how many patients were read."""
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), BATCH):
        _recompute_batch(ids[start : start + BATCH])
    return len(ids)


def activity_consent_follow(*, patient_id: int) -> int:
    """Set the consent to advertising on the patient's rows from their consents, in the
    caller's transaction (a signature or withdrawal); how many rows were written."""
    with transaction.atomic():
        # The profile row first, as a rewrite takes it (see the module's docstring).
        list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk"))
        updated: int = PatientActivity.objects.filter(patient_id=patient_id).update(
            marketing_consent=Exists(
                advertising_consents().filter(patient_id=OuterRef("patient_id"))
            )
        )
    return updated


@transaction.atomic
def _recompute_batch(ids: list[int]) -> None:
    # Profiles locked in id order (as a merge locks its pair): a signature waits for this
    # rewrite, or this rewrite reads the signature (`activity_consent_follow`).
    people = list(
        Patient.objects.select_for_update()
        .filter(pk__in=ids, anonymised_at__isnull=True, merged_into__isnull=True)
        .only("pk", "birth_date", "home_clinic_id")
        .order_by("pk")
    )
    PatientActivity.objects.filter(patient_id__in=ids).delete()
    PatientSpecialty.objects.filter(patient_id__in=ids).delete()
    consenting = set(
        advertising_consents().filter(patient_id__in=ids).values_list("patient_id", flat=True)
    )
    done = Q(status=AppointmentStatus.COMPLETED)
    per_clinic = (
        Appointment.objects.filter(patient_id__in=ids)
        .values("patient_id", "clinic_id")
        .annotate(
            last=Max("starts_at", filter=done),
            attended=Count("pk", filter=done),
            no_shows=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
            spend=Sum("price", filter=done),
        )
        .order_by()
    )
    visits: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in per_clinic:
        visits[row["patient_id"]].append(row)
    specialties: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for patient_id, clinic_id, specialty_id in (
        Appointment.objects.filter(done, patient_id__in=ids)
        .values_list("patient_id", "clinic_id", "service__specialty_id")
        .distinct()
        .order_by()
    ):
        specialties[patient_id].add((clinic_id, specialty_id))
    facts: list[PatientActivity] = []
    seen: list[PatientSpecialty] = []
    for person in people:
        year = person.birth_date.year if person.birth_date else None
        agrees = person.pk in consenting
        rows = visits.get(person.pk, [])
        network = PatientActivity(
            patient_id=person.pk, clinic_id=None, birth_year=year, marketing_consent=agrees
        )
        for row in rows:
            facts.append(
                PatientActivity(
                    patient_id=person.pk,
                    clinic_id=row["clinic_id"],
                    last_attended_at=row["last"],
                    attended=row["attended"],
                    no_shows=row["no_shows"],
                    spend=row["spend"] or ZERO,
                    birth_year=year,
                    marketing_consent=agrees,
                )
            )
            network.attended += row["attended"]
            network.no_shows += row["no_shows"]
            network.spend += row["spend"] or ZERO
            if row["last"] is not None and (
                network.last_attended_at is None or row["last"] > network.last_attended_at
            ):
                network.last_attended_at = row["last"]
        facts.append(network)
        clinics = {row["clinic_id"] for row in rows}
        if person.home_clinic_id is not None and person.home_clinic_id not in clinics:
            facts.append(
                PatientActivity(
                    patient_id=person.pk,
                    clinic_id=person.home_clinic_id,
                    birth_year=year,
                    marketing_consent=agrees,
                )
            )
        named = specialties.get(person.pk, set())
        for clinic_id, specialty_id in named:
            seen.append(
                PatientSpecialty(
                    patient_id=person.pk, clinic_id=clinic_id, specialty_id=specialty_id
                )
            )
        for specialty_id in {specialty for _clinic, specialty in named}:
            seen.append(PatientSpecialty(patient_id=person.pk, specialty_id=specialty_id))
    PatientActivity.objects.bulk_create(facts, batch_size=2000)
    PatientSpecialty.objects.bulk_create(seen, batch_size=2000)


def lead_outcomes_refresh(leads: QuerySet[Lead]) -> int:
    """Copy the booked visit's outcome (attended, revenue) onto these leads; one statement."""
    visit = Appointment.objects.filter(
        pk=OuterRef("booked_appointment_id"), status=AppointmentStatus.COMPLETED
    )
    updated: int = leads.update(
        outcome_attended=Exists(visit),
        outcome_revenue=Coalesce(
            Subquery(visit.values("price")[:1]),
            Value(ZERO),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
    )
    return updated


def lead_outcome_set(lead: Lead, visit: Appointment | None) -> list[str]:
    """Set the outcome of a lead just linked to `visit` (same transaction); the changed fields."""
    done = visit is not None and visit.status == AppointmentStatus.COMPLETED
    lead.outcome_attended = done
    lead.outcome_revenue = visit.price if done and visit is not None else ZERO
    return ["outcome_attended", "outcome_revenue"]
