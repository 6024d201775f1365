"""PLACEHOLDER (issue #18): the catalogue's words the assistant recognises.

The language-understanding branch replaces this module at merge; only `vocabulary_load()` and
the `Vocabulary` name are the contract. This minimal version lists the names of active
specialties, services, doctors and clinics so the keyword placeholder can match them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Clinic
from scheduling.models import Doctor, Service, Specialty


@dataclass(frozen=True)
class Vocabulary:
    specialties: tuple[tuple[int, str], ...]
    services: tuple[tuple[int, str], ...]
    doctors: tuple[tuple[int, str], ...]
    clinics: tuple[tuple[int, str, str], ...]  # id, name, city


def vocabulary_load() -> Vocabulary:
    return Vocabulary(
        specialties=tuple(Specialty.objects.values_list("id", "name")),
        services=tuple(Service.objects.filter(is_active=True).values_list("id", "name")),
        doctors=tuple(Doctor.objects.filter(is_active=True).values_list("id", "last_name")),
        clinics=tuple(Clinic.objects.filter(is_active=True).values_list("id", "name", "city")),
    )
