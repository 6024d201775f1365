"""Plain-dict FHIR R4 resources built from Medfront rows (validated in tests with the R4B
models of `fhir.resources`). No diagnoses or free-text notes ever leave through here."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from scheduling.choices import AppointmentStatus
from scheduling.fhir.ids import fhir_slot_id, schedule_id

FHIR_VERSION = "4.0.1"
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
SERVICE_SYSTEM = "urn:medfront:service"
SPECIALTY_SYSTEM = "urn:medfront:specialty"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

S = AppointmentStatus
# FHIR has no "confirmed": a confirmed visit is still "booked"; a rollback undoes an entry.
APPOINTMENT_STATUS = {
    S.BOOKED: "booked",
    S.CONFIRMED: "booked",
    S.CHECKED_IN: "checked-in",
    S.COMPLETED: "fulfilled",
    S.CANCELLED: "cancelled",
    S.NO_SHOW: "noshow",
    S.ROLLED_BACK: "entered-in-error",
}


def base_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/fhir/R4"


def instant(value: datetime.datetime, tz=None) -> str:
    return (value.astimezone(tz) if tz else value).isoformat()


def _human_name(last: str, first: str, middle: str) -> dict[str, Any]:
    given = [p for p in (first, middle) if p]
    name: dict[str, Any] = {"family": last, "text": " ".join([last, *given]).strip()}
    if given:
        name["given"] = given
    return name


def practitioner(doctor) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(doctor.public_id),
        "active": doctor.is_active,
        "name": [_human_name(doctor.last_name, doctor.first_name, doctor.middle_name)],
    }
    languages = [code for code in (doctor.languages or []) if isinstance(code, str) and code]
    if languages:
        resource["communication"] = [
            {"coding": [{"system": LANGUAGE_SYSTEM, "code": code}]} for code in languages
        ]
    specialties = list(doctor.specialties.all())
    if specialties:
        resource["qualification"] = [
            {"code": {"coding": [{"system": SPECIALTY_SYSTEM, "code": s.slug}], "text": s.name}}
            for s in specialties
        ]
    return resource


def location(clinic) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(clinic.public_id),
        "status": "active" if clinic.is_active else "inactive",
        "name": clinic.name,
        "mode": "instance",
        "address": {
            "text": f"{clinic.city}, {clinic.address}",
            "city": clinic.city,
            "line": [clinic.address],
        },
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": clinic.timezone}],
    }
    telecom = []
    if clinic.phone:
        telecom.append({"system": "phone", "value": clinic.phone, "use": "work"})
    if clinic.email:
        telecom.append({"system": "email", "value": clinic.email, "use": "work"})
    if telecom:
        resource["telecom"] = telecom
    if clinic.opening_hours:
        resource["description"] = clinic.opening_hours
    return resource


def _service_concept(service) -> dict[str, Any]:
    return {"coding": [{"system": SERVICE_SYSTEM, "code": service.code}], "text": service.name}


def healthcare_service(service) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(service.public_id),
        "active": service.is_active,
        "name": service.name,
        "type": [_service_concept(service)],
        "specialty": [
            {
                "coding": [{"system": SPECIALTY_SYSTEM, "code": service.specialty.slug}],
                "text": service.specialty.name,
            }
        ],
        "extension": [
            {
                "url": "urn:medfront:fhir:duration-minutes",
                "valueInteger": service.duration_minutes,
            },
            {
                "url": "urn:medfront:fhir:price",
                "valueMoney": {"value": float(service.price), "currency": "RUB"},
            },
        ],
    }
    if service.preparation:
        resource["extraDetails"] = service.preparation
    return resource


def schedule(doctor, clinic, services) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": schedule_id(doctor_public_id=doctor.public_id, clinic_public_id=clinic.public_id),
        "active": doctor.is_active and clinic.is_active,
        "actor": [
            {"reference": f"Practitioner/{doctor.public_id}", "display": doctor.full_name},
            {"reference": f"Location/{clinic.public_id}", "display": clinic.name},
        ],
    }
    if services:
        resource["serviceType"] = [_service_concept(s) for s in services]
    return resource


def slot(item, *, service, clinic_tz) -> dict[str, Any]:
    """A free engine slot (`scheduling.selectors.availability.Slot`) as a FHIR Slot."""
    return {
        "resourceType": "Slot",
        "id": fhir_slot_id(
            doctor_public_id=item.doctor_public_id,
            service_public_id=item.service_public_id,
            start=item.start,
        ),
        "schedule": {
            "reference": "Schedule/"
            + schedule_id(
                doctor_public_id=item.doctor_public_id, clinic_public_id=item.clinic_public_id
            )
        },
        "serviceType": [_service_concept(service)],
        "status": "free",
        "start": instant(item.start, clinic_tz),
        "end": instant(item.end, clinic_tz),
    }


def patient(p) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.public_id),
        "active": True,
        "name": [_human_name(p.last_name, p.first_name, p.middle_name)],
    }
    if p.birth_date:
        resource["birthDate"] = p.birth_date.isoformat()
    if p.sex in ("female", "male", "unknown"):
        resource["gender"] = p.sex
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone, "use": "mobile"})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    if telecom:
        resource["telecom"] = telecom
    return resource


def appointment(a) -> dict[str, Any]:
    tz = a.clinic.tz
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(a.public_id),
        "status": APPOINTMENT_STATUS.get(a.status, "booked"),
        "serviceType": [_service_concept(a.service)],
        "start": instant(a.starts_at, tz),
        "end": instant(a.ends_at, tz),
        "minutesDuration": int((a.ends_at - a.starts_at).total_seconds() // 60),
        "created": instant(a.created_at, tz),
        "participant": [
            {
                "actor": {"reference": f"Patient/{a.patient.public_id}"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{a.doctor.public_id}",
                    "display": a.doctor.full_name,
                },
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {"reference": f"Location/{a.clinic.public_id}", "display": a.clinic.name},
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if a.status == S.CANCELLED and a.cancel_reason:
        resource["cancelationReason"] = {"text": a.cancel_reason}
    return resource


def bundle(resources: list[dict[str, Any]], *, self_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base_url()}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def operation_outcome(*, code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


SEARCHABLE = {
    "Practitioner": [],
    "HealthcareService": [],
    "Location": [],
    "Schedule": [("actor", "reference")],
    "Slot": [
        ("schedule", "reference"),
        ("service-type", "token"),
        ("start", "date"),
        ("status", "token"),
    ],
    "Patient": [],
    "Appointment": [("date", "date"), ("status", "token")],
}


def capability_statement() -> dict[str, Any]:
    resources = []
    for name, params in SEARCHABLE.items():
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if name == "Appointment":
            interactions.append({"code": "create"})
        resources.append(
            {
                "type": name,
                "interaction": interactions,
                "searchParam": [{"name": p, "type": t} for p, t in params],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "publisher": "Medfront",
        "kind": "instance",
        "software": {"name": "Medfront"},
        "implementation": {"description": "Medfront booking", "url": base_url()},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Catalogue and slots are public. Patient and Appointment need "
                    "`Authorization: Token <token>` from /api/v1/auth/token/ or a session."
                },
                "resource": resources,
            }
        ],
    }
