"""Read paths of family links on the account pages: whom a patient acts for, and who acts for
them."""

from __future__ import annotations

from portal import permissions
from portal.models import FamilyLink, Patient


def dependant_links(*, patient: Patient) -> list[FamilyLink]:
    """The patient's links to the dependants they may act for today, oldest first."""
    managed = permissions.patients_managed_by(patient.user).values("pk")
    return list(
        FamilyLink.objects.filter(guardian=patient, dependant__in=managed)
        .select_related("dependant")
        .order_by("created_at")
    )


def guardian_links(*, patient: Patient) -> list[FamilyLink]:
    """Everyone linked as the patient's guardian, oldest first."""
    return list(
        FamilyLink.objects.filter(dependant=patient)
        .select_related("guardian")
        .order_by("created_at")
    )


def family_link(*, guardian: Patient, dependant: Patient) -> FamilyLink | None:
    return FamilyLink.objects.filter(guardian=guardian, dependant=dependant).first()
