"""Read paths of the network: clinics for the landing page and each role's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from portal import permissions
from portal.models import Clinic, Patient, StaffMembership
from portal.types import RequestUser


def active_clinics() -> QuerySet[Clinic]:
    return Clinic.objects.filter(is_active=True).select_related("legal_entity")


@dataclass(frozen=True)
class ClinicRow:
    clinic: Clinic
    utc_offset: str


@dataclass(frozen=True)
class City:
    name: str
    rows: list[ClinicRow]


def clinics_by_city() -> list[City]:
    """Active clinics grouped by city, cities and clinics in alphabetical order. One query."""
    cities: dict[str, list[ClinicRow]] = {}
    for clinic in active_clinics().order_by("city", "name"):
        row = ClinicRow(clinic=clinic, utc_offset=utc_offset_label(clinic))
        cities.setdefault(clinic.city, []).append(row)
    return [City(name=name, rows=rows) for name, rows in cities.items()]


def utc_offset_label(clinic: Clinic, at: datetime.datetime | None = None) -> str:
    """'UTC+8' / 'UTC+5:30' for the clinic's zone at `at` (now by default)."""
    offset = (at or timezone.now()).astimezone(clinic.tz).utcoffset() or datetime.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def clinics_for_role(*, user: RequestUser, role: str) -> QuerySet[Clinic]:
    """Active clinics where `user` holds `role`; every clinic for a network-wide membership."""
    held = [m for m in permissions.memberships_of(user) if m.role == role]
    if any(m.clinic_id is None for m in held):
        return active_clinics()
    return active_clinics().filter(pk__in=[m.clinic_id for m in held])


@dataclass(frozen=True)
class NetworkCounts:
    clinics: int
    inactive_clinics: int
    staff: int
    patients: int
    patient_logins: int


def network_counts(*, user: RequestUser) -> NetworkCounts:
    """Head counts of the whole network, for those who manage it (`network.manage`)."""
    permissions.require_capability(user, "network.manage")
    return NetworkCounts(
        clinics=Clinic.objects.filter(is_active=True).count(),
        inactive_clinics=Clinic.objects.filter(is_active=False).count(),
        staff=StaffMembership.objects.values("user").distinct().count(),
        patients=Patient.objects.filter(
            anonymised_at__isnull=True, merged_into__isnull=True
        ).count(),
        patient_logins=Patient.objects.filter(
            anonymised_at__isnull=True, user__isnull=False
        ).count(),
    )


def staff_counts_by_clinic(*, user: RequestUser) -> dict[int, int]:
    """Clinic id → number of distinct staff members holding a role there."""
    permissions.require_capability(user, "network.manage")
    counts: dict[int, set[int]] = {}
    for clinic_id, user_id in StaffMembership.objects.filter(clinic__isnull=False).values_list(
        "clinic_id", "user_id"
    ):
        counts.setdefault(clinic_id, set()).add(user_id)
    return {clinic_id: len(users) for clinic_id, users in counts.items()}
