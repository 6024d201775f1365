"""The demo network's connector-mode clinic: "Медфронт Замоскворечье" keeps its schedule in
an "external" FHIR R4 system, played by this same Medfront's `/fhir/R4/` (clinic Arbat's
schedule of two doctors), so `make run` needs no second process.

Its own doctor cards have no schedule here: their times come through the connector, which
signs in with an integration token limited to the Arbat clinic (FHIR read and write).
"""

from __future__ import annotations

import datetime

from django.conf import settings

from portal.choices import IntegrationScope
from portal.demo import DemoContext
from portal.models import Clinic
from portal.services.integration_tokens import integration_token_issue
from scheduling.choices import BookingMode, ConnectorKind
from scheduling.fhir.ids import schedule_id
from scheduling.models import (
    BookingPolicy,
    ClinicConnector,
    Doctor,
    ScheduleRule,
    Service,
    Specialty,
)

CONNECTOR_CLINIC = "moscow-zamoskvorechye"
UPSTREAM_CLINIC = "moscow-arbat"
TOKEN_NAME = "Коннектор Медфронт Замоскворечье"  # noqa: S105 - a label, not a secret
# (last, first, middle name, specialty, service codes)
PEOPLE = (
    ("Воронцова", "Елена", "Павловна", "therapist", ("therapist-first", "therapist-repeat")),
    ("Глебов", "Артём", "Игоревич", "cardiologist", ("cardiologist-first",)),
)


def seed_connector_clinic(ctx: DemoContext) -> Clinic | None:
    upstream = ctx.clinics.get(UPSTREAM_CLINIC)
    if upstream is None or Clinic.objects.filter(slug=CONNECTOR_CLINIC).exists():
        return None
    clinic = Clinic.objects.create(
        slug=CONNECTOR_CLINIC,
        name="Медфронт Замоскворечье",
        legal_entity=upstream.legal_entity,
        city="Москва",
        address="115035, г. Москва, ул. Пятницкая, д. 12",
        timezone="Europe/Moscow",
        phone="+74952410360",
        email="zamoskvorechye@medfront.example",
        opening_hours="Пн–Сб 9:00–15:00",
    )
    BookingPolicy.objects.create(clinic=clinic, mode=BookingMode.CONNECTOR)
    schedules = {}
    for last, first, middle, specialty_slug, codes in PEOPLE:
        specialty = Specialty.objects.filter(slug=specialty_slug).first()
        services = list(Service.objects.filter(code__in=codes))
        if specialty is None or not services:
            continue
        # The external system's doctor (served by Arbat's FHIR) and our card of them.
        theirs, ours = (
            Doctor.objects.create(last_name=last, first_name=first, middle_name=middle)
            for _ in range(2)
        )
        for doctor, where in ((theirs, upstream), (ours, clinic)):
            doctor.specialties.add(specialty)
            doctor.services.add(*services)
            doctor.clinics.add(where)
        ScheduleRule.objects.bulk_create(
            ScheduleRule(
                doctor=theirs,
                clinic=upstream,
                weekday=day,
                start_time=datetime.time(9),
                end_time=datetime.time(15),
                slot_step_minutes=30,
                valid_from=ctx.today - datetime.timedelta(days=7),
            )
            for day in range(6)
        )
        schedules[str(ours.public_id)] = schedule_id(
            doctor_public_id=theirs.public_id, clinic_public_id=upstream.public_id
        )
    _, token = integration_token_issue(
        name=TOKEN_NAME,
        scopes=[IntegrationScope.FHIR_READ, IntegrationScope.FHIR_WRITE],
        clinic=upstream,
        expires_at=None,
        actor=None,
    )
    ClinicConnector.objects.create(
        clinic=clinic,
        kind=ConnectorKind.FHIR_R4,
        base_url=f"{settings.SITE_URL.rstrip('/')}/fhir/R4",
        secret=token,
        timeout_seconds=3,
        settings={"auth_scheme": "Bearer", "schedules": schedules},
    )
    ctx.log(f"scheduling: connector clinic {clinic.name} served by {upstream.name}'s FHIR R4")
    return clinic
