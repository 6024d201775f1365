"""Appointments a caller may see. Every list is scoped by the caller, never by ids from the URL."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import permissions
from scheduling.choices import UPCOMING_STATUSES
from scheduling.models import Appointment, Doctor
from scheduling.selectors.catalogue import get_by_public_id


def appointments_all() -> QuerySet[Appointment]:
    """Every appointment with what the API shows; callers scope it (see below)."""
    return Appointment.objects.select_related("patient", "doctor", "clinic", "service", "room")


def appointments_visible_to(user: Any) -> QuerySet[Appointment]:
    """Patients: their own and their dependants' visits; staff: visits in their clinics, and
    a doctor their own visits."""
    qs = appointments_all()
    conditions = Q(pk__in=[])
    if permissions.is_patient(user):
        conditions |= Q(patient__in=permissions.patients_managed_by(user))
    clinic_ids = permissions.clinic_ids_with(user, "appointment.view")
    if clinic_ids is None:
        return qs
    if clinic_ids:
        conditions |= Q(clinic_id__in=clinic_ids)
    doctor = _doctor_of(user)
    if doctor is not None:
        conditions |= Q(doctor=doctor)
    return qs.filter(conditions)


def _doctor_of(user: Any) -> Doctor | None:
    """The doctor profile linked to a login, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Doctor.objects.filter(user=user).first()


def appointment_list(*, user: Any, when: str | None = None) -> QuerySet[Appointment]:
    qs = appointments_visible_to(user)
    now = timezone.now()
    if when == "upcoming":
        return qs.filter(starts_at__gte=now, status__in=UPCOMING_STATUSES).order_by("starts_at")
    if when == "past":
        return qs.filter(Q(starts_at__lt=now) | ~Q(status__in=UPCOMING_STATUSES)).order_by(
            "-starts_at"
        )
    return qs.order_by("-starts_at")


def get_appointment_for_user(user: Any, public_id: Any) -> Appointment:
    """The appointment if `user` may see it; 404 for unknown or someone else's."""
    return get_by_public_id(appointments_visible_to(user), public_id)
