"""The public catalogue: clinics, specialties, services and doctors anyone may browse."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from portal.models import Clinic
from scheduling.models import Doctor, Service, Specialty

M = TypeVar("M", bound=Model)


def public_clinics() -> QuerySet[Clinic]:
    return Clinic.objects.filter(is_active=True).order_by("city", "name")


def public_specialties() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name")


def public_services(*, specialty: Specialty | None = None) -> QuerySet[Service]:
    qs = Service.objects.filter(is_active=True).select_related("specialty").order_by("name")
    return qs.filter(specialty=specialty) if specialty is not None else qs


def public_doctors(
    *, specialty: Specialty | None = None, clinic: Clinic | None = None
) -> QuerySet[Doctor]:
    qs = Doctor.objects.filter(is_active=True)
    if specialty is not None:
        qs = qs.filter(specialties=specialty)
    if clinic is not None:
        qs = qs.filter(clinics=clinic)
    return (
        qs.distinct()
        .order_by("last_name", "first_name", "id")
        .prefetch_related(
            Prefetch("specialties", queryset=Specialty.objects.only("id", "public_id")),
            Prefetch("clinics", queryset=Clinic.objects.only("id", "public_id")),
            Prefetch(
                "services", queryset=Service.objects.filter(is_active=True).only("id", "public_id")
            ),
        )
    )


def get_by_public_id(qs: QuerySet[M], public_id: Any) -> M:
    """One row of `qs` by public id; 404 for unknown or malformed ids."""
    try:
        return qs.get(public_id=uuid.UUID(str(public_id)))
    except (ObjectDoesNotExist, ValueError, TypeError, AttributeError) as exc:
        raise Http404 from exc


def active_service_and_doctor(service_id: Any, doctor_id: Any) -> tuple[Service, Doctor]:
    """The active service and doctor with these public ids; 404 for unknown, inactive or
    malformed ids."""
    service = get_by_public_id(Service.objects.filter(is_active=True), service_id)
    doctor = get_by_public_id(Doctor.objects.filter(is_active=True), doctor_id)
    return service, doctor
