"""Counting the bookings the engine refused because the time was already taken.

`records_overlap_refusals` wraps `appointment_book` and `appointment_reschedule` outside
their transaction: when one raises `SlotTaken`, its transaction has already rolled back and
the refusal is counted in `RefusedOverlap` (clinic, local day, doctor, service, channel),
then the error goes on to the caller unchanged. A successful call runs no extra query.

Called inside a caller's own transaction (a booking request confirmed, an assistant turn),
the count is kept with that transaction: if the caller rolls back too, nothing was refused
that anyone saw.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import UPCOMING_STATUSES
from scheduling.errors import SlotTaken
from scheduling.models import Appointment, Doctor, Hold, RefusedOverlap, Service

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def refused_overlap_record(
    *,
    clinic_id: int,
    doctor_id: int,
    service_id: int,
    channel: str,
    when: datetime.datetime,
) -> None:
    """Count one refusal on the clinic's local day of `when` (safe under concurrency)."""
    tz = Clinic.objects.get(pk=clinic_id).tz
    key = {
        "clinic_id": clinic_id,
        "date": when.astimezone(tz).date(),
        "doctor_id": doctor_id,
        "service_id": service_id,
        "channel": channel,
    }
    # get_or_create survives a concurrent first row itself; the increment is one UPDATE.
    RefusedOverlap.objects.get_or_create(**key, defaults={"count": 0})
    RefusedOverlap.objects.filter(**key).update(count=F("count") + 1)


def _clinic_of_refusal(
    *, doctor: Doctor, start: Any, clinic: Clinic | None, hold: Hold | None
) -> int | None:
    """Where the refused booking was wanted: the clinic asked for, the hold's, else the
    clinic of the doctor's visit in the way, else the doctor's first clinic."""
    if clinic is not None:
        return clinic.pk
    if hold is not None:
        return hold.clinic_id
    if isinstance(start, datetime.datetime):
        in_the_way = (
            Appointment.objects.filter(
                doctor=doctor, status__in=UPCOMING_STATUSES, starts_at__lte=start, ends_at__gt=start
            )
            .values_list("clinic_id", flat=True)
            .first()
        )
        if in_the_way is not None:
            return in_the_way
    return doctor.clinics.order_by("pk").values_list("pk", flat=True).first()


def _record(func_name: str, kwargs: dict[str, Any]) -> None:
    if func_name == "appointment_reschedule":
        appointment: Appointment = kwargs["appointment"]
        doctor_id = getattr(kwargs.get("doctor"), "pk", None) or appointment.doctor_id
        clinic_id: int | None = appointment.clinic_id
        service_id, channel = appointment.service_id, appointment.channel
    else:
        doctor: Doctor = kwargs["doctor"]
        service: Service = kwargs["service"]
        doctor_id, service_id, channel = doctor.pk, service.pk, kwargs["channel"]
        clinic_id = _clinic_of_refusal(
            doctor=doctor,
            start=kwargs.get("start"),
            clinic=kwargs.get("clinic"),
            hold=kwargs.get("hold"),
        )
    if clinic_id is None:
        return
    refused_overlap_record(
        clinic_id=clinic_id,
        doctor_id=doctor_id,
        service_id=service_id,
        channel=channel,
        when=kwargs.get("now") or timezone.now(),
    )


def records_overlap_refusals(func: Callable[P, R]) -> Callable[P, R]:
    """Count the `SlotTaken` refusals of a booking service (see the module's docstring)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SlotTaken:
            try:
                with transaction.atomic():
                    _record(func.__name__, kwargs)
            except Exception:
                # Counting must never turn a clear "taken" answer into an error page.
                logger.exception("refused overlap not counted")
            raise

    return wrapper
