"""Segments: groups of patients by rules, counted live (nothing about them is stored).

Rules (all optional, combined with AND), in `Segment.rules`:
- `inactive_days`: attended at least once, but not in the last N days;
- `specialty_id`: attended a visit of this specialty;
- `min_no_shows`: at least N visits marked no-show;
- `min_spend`: attended visits worth at least this many roubles;
- `marketing_consent`: true — only those with an active consent to advertising messages.
A segment with a clinic counts the patients who have visited it or have it as home clinic.
Anonymised profiles never count. Marketers see counts here, not people.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from crm.models import Segment
from crm.permissions import require_crm_user
from portal import permissions
from portal.choices import ConsentPurpose
from portal.models import Clinic, Consent, Patient
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment, Specialty

RULE_NAMES = ("inactive_days", "specialty_id", "min_no_shows", "min_spend", "marketing_consent")


def segment_patients(*, rules: dict[str, Any], clinic: Clinic | None = None) -> QuerySet[Patient]:
    """The patients `rules` select (see the module's docstring); one query when evaluated."""
    patients = Patient.objects.filter(anonymised_at__isnull=True, merged_into__isnull=True)
    visits = Appointment.objects.filter(patient=OuterRef("pk"))
    if clinic is not None:
        patients = patients.filter(Exists(visits.filter(clinic=clinic)) | Q(home_clinic=clinic))
        visits = visits.filter(clinic=clinic)
    attended = visits.filter(status=AppointmentStatus.COMPLETED)
    if rules.get("inactive_days"):
        cutoff = timezone.now() - datetime.timedelta(days=int(rules["inactive_days"]))
        patients = patients.filter(
            Exists(attended), ~Exists(attended.filter(starts_at__gte=cutoff))
        )
    if rules.get("specialty_id"):
        patients = patients.filter(
            Exists(attended.filter(service__specialty_id=int(rules["specialty_id"])))
        )
    scoped = (
        Appointment.objects.all() if clinic is None else Appointment.objects.filter(clinic=clinic)
    )
    if rules.get("min_no_shows"):
        repeat = (
            scoped.filter(status=AppointmentStatus.NO_SHOW)
            .values("patient")
            .annotate(n=Count("pk"))
            .filter(n__gte=int(rules["min_no_shows"]))
            .values("patient")
        )
        patients = patients.filter(pk__in=repeat)
    if rules.get("min_spend"):
        spenders = (
            scoped.filter(status=AppointmentStatus.COMPLETED)
            .values("patient")
            .annotate(total=Sum("price"))
            .filter(total__gte=Decimal(str(rules["min_spend"])))
            .values("patient")
        )
        patients = patients.filter(pk__in=spenders)
    if rules.get("marketing_consent"):
        patients = patients.filter(
            Exists(
                Consent.objects.filter(
                    patient=OuterRef("pk"),
                    purpose=ConsentPurpose.ADVERTISING,
                    withdrawn_at__isnull=True,
                )
            )
        )
    return patients


def segment_count(*, rules: dict[str, Any], clinic: Clinic | None = None) -> int:
    return segment_patients(rules=rules, clinic=clinic).count()


def segments_for_user(*, user: RequestUser) -> list[tuple[Segment, int]]:
    """The segments the user may use, each with its live count."""
    require_crm_user(user)
    ids = permissions.clinic_ids_with(user, "crm.use")
    segments = Segment.objects.select_related("clinic")
    if ids is not None:
        segments = segments.filter(clinic_id__in=ids)
    return [(s, segment_count(rules=s.rules, clinic=s.clinic)) for s in segments]


def specialties_for_rules() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name")
