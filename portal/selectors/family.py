"""Read paths of family links: whom a patient acts for, and who acts for them."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

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


def dependants_with_relation(*, user) -> list[Patient]:
    """A patient's current, not anonymised dependants, each with `relation` set from its link;
    nobody for anyone else."""
    if not permissions.is_patient(user):
        return []
    today = timezone.localdate()
    links = (
        FamilyLink.objects.filter(guardian=user.patient, dependant__anonymised_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("dependant")
        .order_by("id")
    )
    dependants = []
    for link in links:
        link.dependant.relation = link.relation
        dependants.append(link.dependant)
    return dependants
