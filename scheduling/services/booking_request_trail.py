"""The trail of a booking request's changes: an audit event for each, and the patient told
through the outbox on the channel they chose (`booking_requests`, `booking_request_sla`)."""

from __future__ import annotations

from typing import Any

from django.utils import formats, translation

from notifications.services import NoAddress, outbox_enqueue
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.choices import ContactChannel
from scheduling.models import Appointment, BookingRequest

OBJECT_TYPE = "scheduling.bookingrequest"


def request_audit(request: BookingRequest, actor: Actor, action: str, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(request.public_id),
        patient_ids=[request.patient.public_id],
        changed_fields=fields,
        clinic=request.clinic_id,
    )


def request_tell(request: BookingRequest, kind: str, **extra: Any) -> None:
    """Tell the patient on the channel they chose (a phone call is followed by an SMS); on
    the other one when they have no address for it; not at all when they have none."""
    clinic = request.clinic
    patient = request.patient
    what = request.service.name if request.service else request.specialty.name  # type: ignore[union-attr]
    context: dict[str, Any] = {
        "request_id": str(request.public_id),
        "clinic": clinic.name,
        "clinic_phone": clinic.phone,
        "clinic_city": clinic.city,
        "what": what,
    }
    appointment: Appointment | None = extra.pop("appointment", None)
    if appointment is not None:
        context.update(
            doctor=appointment.doctor.full_name,
            service=appointment.service.name,
            clinic_address=clinic.address,
            start=appointment.starts_at.astimezone(clinic.tz).isoformat(),
        )
    if kind == "proposed":
        with translation.override(patient.preferred_language or None):
            context["times"] = [
                f"{formats.date_format(p.starts_at.astimezone(clinic.tz), 'DATETIME_FORMAT')}, "
                f"{p.doctor.full_name}"
                for p in request.proposals.select_related("doctor")
            ]
    context.update(extra)
    first = "email" if request.contact_channel == ContactChannel.EMAIL else "sms"
    for channel in (first, "sms" if first == "email" else "email"):
        try:
            outbox_enqueue(
                event=f"booking_request.{kind}",
                channel=channel,
                patient=patient,
                context=context,
                clinic=request.clinic_id,
            )
        except NoAddress:
            continue
        return
