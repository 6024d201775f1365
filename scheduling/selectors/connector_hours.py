"""Working-hour slots of a connector clinic's doctors, for systems that give only busy time
(an iCalendar feed): our schedule rules say when they work, the feed says when they are busy."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from portal.models import Clinic
from scheduling.connectors.base import ExternalSlot
from scheduling.models import Doctor, Service
from scheduling.selectors.availability import working_hours


def working_slots(
    *,
    clinic_id: int | None,
    service_code: str,
    doctor_public_id: uuid.UUID | None,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[ExternalSlot]:
    """Every service-length step of the working hours in [start, end), from now on."""
    clinic = Clinic.objects.filter(pk=clinic_id).first() if clinic_id is not None else None
    service = Service.objects.filter(code=service_code, is_active=True).first()
    if clinic is None or service is None:
        return []
    doctors = Doctor.objects.filter(is_active=True, clinics=clinic, services=service)
    if doctor_public_id is not None:
        doctors = doctors.filter(public_id=doctor_public_id)
    tz = clinic.tz
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    length = datetime.timedelta(minutes=service.duration_minutes)
    now = timezone.now()
    slots = []
    for doctor in doctors.order_by("pk"):
        hours = working_hours(doctor_id=doctor.pk, first=first, last=last)
        for (where, day), windows in sorted(hours.items()):
            if where != clinic.pk:
                continue
            for opens, closes in windows:
                at = datetime.datetime.combine(day, opens, tzinfo=tz)
                until = datetime.datetime.combine(day, closes, tzinfo=tz)
                while at + length <= until:
                    begin = at.astimezone(datetime.UTC)
                    if begin >= max(start, now) and begin + length <= end:
                        slots.append(
                            ExternalSlot("", doctor.public_id, service_code, begin, begin + length)
                        )
                    at += length
    slots.sort(key=lambda s: (s.start, str(s.doctor_public_id)))
    return slots
