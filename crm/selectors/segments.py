"""Segments: groups of patients by rules, with their counts.

Rules (all optional, combined with AND), in `Segment.rules`:
- `inactive_days`: attended at least once, but not in the last N days;
- `specialty_id`: attended a visit of this specialty;
- `min_no_shows`: at least N visits marked no-show;
- `min_spend`: attended visits worth at least this many roubles;
- `age_from`, `age_to`: the age the patient turns this calendar year lies in the band (by the
  year of birth only — see `crm.models.PatientActivity.birth_year`);
- `marketing_consent`: true — only those with an active consent to advertising messages.
A segment with a clinic counts the patients who have visited it or have it as home clinic.
Anonymised and merged profiles never count. Marketers see counts here, not people.

Counts read the activity facts (`crm.models.activity`, refreshed every minute) for every
patient whose visits did not change since the facts were read, and compute the rest live, so
a visit completed a minute ago counts at once. `segment_patients` is the live definition: the
campaigns send by it, and the tests hold the facts to it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from crm.models import PatientActivity, PatientSpecialty, Segment
from crm.permissions import require_crm_user
from crm.selectors.activity import activity_state, visits_changed
from portal import permissions
from portal.choices import ConsentPurpose
from portal.models import Clinic, Consent, Patient
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment, Specialty

RULE_NAMES = (
    "inactive_days",
    "specialty_id",
    "min_no_shows",
    "min_spend",
    "age_from",
    "age_to",
    "marketing_consent",
)


def advertising_consents() -> QuerySet[Consent]:
    """Active consents to advertising messages: what the `marketing_consent` rule asks for,
    live here and kept on the activity facts (`crm.services.activity`)."""
    return Consent.objects.filter(purpose=ConsentPurpose.ADVERTISING, withdrawn_at__isnull=True)


def _advertising_consent(patient: str) -> Exists:
    """An active consent to advertising of the patient whose id the outer query's `patient`
    column holds."""
    return Exists(advertising_consents().filter(patient_id=OuterRef(patient)))


def birth_years(rules: dict[str, Any], *, today: datetime.date) -> tuple[int | None, int | None]:
    """The earliest and latest year of birth an age band admits (None: no bound)."""
    oldest = today.year - int(rules["age_to"]) if rules.get("age_to") not in (None, "") else None
    youngest = (
        today.year - int(rules["age_from"]) if rules.get("age_from") not in (None, "") else None
    )
    return oldest, youngest


def age_fits(
    birth_date: datetime.date | None, rules: dict[str, Any], *, today: datetime.date
) -> bool:
    """Whether a (decrypted) date of birth passes the rules' age band; True without a band."""
    oldest, youngest = birth_years(rules, today=today)
    if oldest is None and youngest is None:
        return True
    if birth_date is None:
        return False
    return (oldest is None or birth_date.year >= oldest) and (
        youngest is None or birth_date.year <= youngest
    )


def segment_patients(*, rules: dict[str, Any], clinic: Clinic | None = None) -> QuerySet[Patient]:
    """The patients `rules` select, computed live from the appointments — all rules but the age
    band, which needs the encrypted date of birth (`age_fits` checks each one in memory)."""
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
        patients = patients.filter(_advertising_consent("pk"))
    return patients


def segment_count_live(
    *, rules: dict[str, Any], clinic: Clinic | None = None, patient_ids: Any = None
) -> int:
    """The count by the live definition (of `patient_ids` only, when given)."""
    patients = segment_patients(rules=rules, clinic=clinic)
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
    oldest, youngest = birth_years(rules, today=timezone.localdate())
    if oldest is None and youngest is None:
        return patients.count()
    today = timezone.localdate()
    # The age band needs the date of birth, decrypted here in memory only.
    return sum(
        1
        for patient in patients.only("pk", "birth_date").iterator(chunk_size=2000)
        if age_fits(patient.birth_date, rules, today=today)
    )


def _facts(rules: dict[str, Any], clinic: Clinic | None) -> QuerySet[PatientActivity]:
    """The activity rows `rules` select: one per patient (of the clinic, or network-wide)."""
    # An anti-join on the few anonymised or merged profiles (their partial index), not a join
    # with every profile: the count then reads only indexes.
    gone = Patient.objects.filter(
        Q(anonymised_at__isnull=False) | Q(merged_into__isnull=False), pk=OuterRef("patient_id")
    )
    rows = PatientActivity.objects.filter(~Exists(gone))
    rows = rows.filter(clinic=clinic) if clinic is not None else rows.filter(clinic__isnull=True)
    if rules.get("inactive_days"):
        cutoff = timezone.now() - datetime.timedelta(days=int(rules["inactive_days"]))
        # A row has a last attended visit exactly when it has attended ones, so the range on
        # `last_attended_at` alone selects them: the count then reads only the index.
        rows = rows.filter(last_attended_at__lt=cutoff)
    if rules.get("specialty_id"):
        seen = PatientSpecialty.objects.filter(
            patient_id=OuterRef("patient_id"), specialty_id=int(rules["specialty_id"])
        )
        seen = seen.filter(clinic=clinic) if clinic is not None else seen.filter(clinic=None)
        rows = rows.filter(Exists(seen))
    if rules.get("min_no_shows"):
        rows = rows.filter(no_shows__gte=int(rules["min_no_shows"]))
    if rules.get("min_spend"):
        rows = rows.filter(spend__gte=Decimal(str(rules["min_spend"])))
    oldest, youngest = birth_years(rules, today=timezone.localdate())
    if oldest is not None:
        rows = rows.filter(birth_year__gte=oldest)
    if youngest is not None:
        rows = rows.filter(birth_year__lte=youngest)
    if rules.get("marketing_consent"):
        rows = rows.filter(marketing_consent=True)
    return rows


def segment_count(*, rules: dict[str, Any], clinic: Clinic | None = None) -> int:
    """How many patients `rules` select now: the facts for patients whose visits did not change
    since they were read, the live definition for the few that did; all live before the first
    refresh."""
    state = activity_state()
    if state is None:
        return segment_count_live(rules=rules, clinic=clinic)
    changed = set(visits_changed(state).values_list("patient_id", flat=True))
    counted = _facts(rules, clinic)
    if changed:
        counted = counted.exclude(patient_id__in=changed)
    total = counted.count()
    if changed:
        total += segment_count_live(rules=rules, clinic=clinic, patient_ids=changed)
    return total


def segments_for_user(*, user: RequestUser) -> list[tuple[Segment, int]]:
    """The segments the user may use, each with its count."""
    require_crm_user(user)
    ids = permissions.clinic_ids_with(user, "crm.use")
    segments = Segment.objects.select_related("clinic")
    if ids is not None:
        segments = segments.filter(clinic_id__in=ids)
    return [(s, segment_count(rules=s.rules, clinic=s.clinic)) for s in segments]


def specialties_for_rules() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name")
