"""The assistant's vocabulary from the catalogue, rebuilt only when the catalogue changes.

Each process keeps the indexes it built with the version stamp they were built for. The stamp
lives in the cache and is bumped by the catalogue's save and delete signals
(`crm.receivers`); bulk `update()`s send no signal, so a built vocabulary is also rebuilt after
`ASSISTANT_VOCABULARY_TTL` seconds at the latest. A call is then one cache read.
"""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.cache import cache

from crm.assistant.vocabulary import ClinicRow, DoctorRow, ServiceRow, SpecialtyRow, Vocabulary
from portal.models import Clinic
from scheduling.models import Doctor, Service, Specialty

VERSION_KEY = "assistant:vocabulary:version"
_built: dict[str, tuple[float, Vocabulary]] = {}


def vocabulary_version_bump() -> None:
    """Say the catalogue changed: every process rebuilds its vocabulary on its next message."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY) or version
    return str(version)


def vocabulary_build(*, version: str = "") -> Vocabulary:
    """Read the active catalogue (four queries) and index it."""
    return Vocabulary.build(
        version=version,
        specialties=[
            SpecialtyRow(id=pk, slug=slug, name=name)
            for pk, slug, name in Specialty.objects.values_list("pk", "slug", "name")
        ],
        services=[
            ServiceRow(id=pk, code=code, name=name, specialty_id=specialty_id)
            for pk, code, name, specialty_id in Service.objects.filter(is_active=True).values_list(
                "pk", "code", "name", "specialty_id"
            )
        ],
        doctors=[
            DoctorRow(id=pk, last_name=last, first_name=first, middle_name=middle)
            for pk, last, first, middle in Doctor.objects.filter(is_active=True).values_list(
                "pk", "last_name", "first_name", "middle_name"
            )
        ],
        clinics=[
            ClinicRow(id=pk, name=name, city=city, address=address)
            for pk, name, city, address in Clinic.objects.filter(is_active=True).values_list(
                "pk", "name", "city", "address"
            )
        ],
    )


def vocabulary_load() -> Vocabulary:
    """The current vocabulary; cheap to call per message."""
    version = _version()
    ttl = settings.ASSISTANT_VOCABULARY_TTL
    entry = _built.get(version)
    if entry is not None and time.monotonic() - entry[0] < ttl:
        return entry[1]
    vocabulary = vocabulary_build(version=version)
    _built.clear()
    _built[version] = (time.monotonic(), vocabulary)
    return vocabulary
