"""Connector-mode clinics: configuring a clinic's connector, and booking through it with a
fallback to a booking request.

Invariants:

- A booking is never lost: whenever the external system cannot be asked (unreachable, slow,
  failing, circuit open, read-only), the patient's choice becomes a booking request in the
  clinic's queue, and the caller is told it is a request awaiting confirmation.
- A slot is verified live before it is booked; one that vanished meanwhile raises `SlotTaken`
  and changes nothing.
- External calls run outside our transactions (each is logged on its own); what is booked
  upstream is mirrored here in one transaction (`appointment_mirror_external`). If the mirror
  is refused, the upstream visit is cancelled again.
- The secret is only ever replaced, never read back to a page.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.models import Clinic, Patient
from portal.types import Actor
from scheduling.choices import (
    ACTIVE_REQUEST_STATUSES,
    BookingMode,
    BookingRequestSource,
    ConnectorKind,
    ConnectorOperation,
    ContactChannel,
    DayPart,
)
from scheduling.connectors import runtime
from scheduling.connectors.base import (
    BookingOrder,
    BookingRefused,
    ConnectorError,
    ExternalAppointment,
    ExternalSlot,
    SlotGone,
)
from scheduling.errors import InvalidInput, PolicyViolation, SlotTaken, UpstreamDown
from scheduling.models import (
    Appointment,
    BookingRequest,
    ClinicConnector,
    ConnectorCall,
    Doctor,
    ExternalBooking,
    Service,
)
from scheduling.selectors.connector_slots import connector_of, connector_week, slots_changed
from scheduling.services.booking import (
    appointment_cancel,
    appointment_mirror_external,
    check_may_act_for,
)
from scheduling.services.booking_requests import booking_request_create

SLOT_VANISHED = _(
    "This time has just been taken in the clinic's system. Please choose another time."
)


@dataclass(frozen=True)
class ConnectorBooking:
    """A booking through a connector: a visit, or a request when the system could not book."""

    appointment: Appointment | None = None
    request: BookingRequest | None = None


# --- Configuration --------------------------------------------------------------------------


@transaction.atomic
def connector_save(
    *,
    clinic: Clinic,
    kind: str,
    base_url: str,
    options: dict[str, Any],
    secret: str | None,
    timeout_seconds: int,
    is_enabled: bool,
) -> ClinicConnector:
    """Create or change `clinic`'s connector. `secret=None` (or "") keeps the stored one; a
    new secret replaces it. The circuit starts closed again."""
    if kind not in ConnectorKind.values:
        raise InvalidInput(_("Choose a system type from the list."), code="invalid_kind")
    if not isinstance(options, dict):
        raise InvalidInput(_("Settings must be a JSON object."), code="invalid_settings")
    row = ClinicConnector.objects.select_for_update().filter(clinic=clinic).first()
    if row is None:
        row = ClinicConnector(clinic=clinic)
    row.kind = kind
    row.base_url = base_url
    row.settings = options
    row.timeout_seconds = timeout_seconds
    row.is_enabled = is_enabled
    if secret:
        row.secret = secret
    row.full_clean(exclude=["clinic"])
    row.save()
    runtime.CacheCircuitStorage(str(row.pk)).forget()
    slots_changed(row)
    return row


# --- Booking ---------------------------------------------------------------------------------


def _day_part(start: datetime.datetime) -> str:
    if start.hour < 12:
        return DayPart.MORNING
    return DayPart.AFTERNOON if start.hour < 17 else DayPart.EVENING


def _request_instead(
    *,
    patient: Patient,
    clinic: Clinic,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    actor: Actor,
) -> BookingRequest:
    """The patient's choice as a booking request for staff to confirm; an identical request
    already waiting (a second click) is returned as it is."""
    local = start.astimezone(clinic.tz)
    existing = BookingRequest.objects.filter(
        patient=patient, clinic=clinic, service=service, status__in=ACTIVE_REQUEST_STATUSES
    ).first()
    if existing is not None:
        return existing
    comment = gettext("Chosen time: %(when)s. The clinic's system could not take the booking.") % {
        "when": formats.date_format(local.replace(tzinfo=None), "DATETIME_FORMAT")
    }
    return booking_request_create(
        patient=patient,
        clinic=clinic,
        windows=[{"from": local.date(), "to": local.date(), "part": _day_part(local)}],
        actor=actor,
        source=BookingRequestSource.CONNECTOR,
        service=service,
        doctor=doctor,
        contact_channel=ContactChannel.PHONE,
        comment=comment,
    )


def connector_book(
    *,
    patient: Patient,
    clinic: Clinic,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    external_id: str,
    channel: str,
    actor: Actor,
) -> ConnectorBooking:
    """Book `service` with `doctor` at `start` in connector clinic `clinic` for `patient`.

    The slot is verified live, booked in the external system and mirrored here. Raises
    `SlotTaken` if it vanished, `PolicyViolation` if the system refused by its rules,
    `InvalidInput` for a doctor or service the clinic does not offer. Any failure of the
    system itself leaves a booking request instead (returned in `request`).
    """
    check_may_act_for(actor, patient)
    row = connector_of(clinic)
    if row is None:
        raise PolicyViolation(
            _("This clinic does not take bookings through an external system."),
            code="not_connector_mode",
        )
    check_clinic_offers(clinic=clinic, doctor=doctor, service=service)
    try:
        booked = book_upstream(
            row=row,
            patient=patient,
            doctor=doctor,
            service=service,
            start=start,
            external_id=external_id,
        )
    except ConnectorError:
        request = _request_instead(
            patient=patient,
            clinic=clinic,
            doctor=doctor,
            service=service,
            start=start,
            actor=actor,
        )
        return ConnectorBooking(request=request)
    try:
        appointment = appointment_mirror_external(
            patient=patient,
            doctor=doctor,
            service=service,
            clinic=clinic,
            connector=row,
            external_id=booked.external_id,
            start=booked.start,
            end=booked.end,
            channel=channel,
            actor=actor,
        )
    except SlotTaken:
        # Our records have the doctor busy then: give the upstream time back.
        _cancel_quietly(row, booked.external_id)
        raise
    return ConnectorBooking(appointment=appointment)


def check_clinic_offers(*, clinic: Clinic, doctor: Doctor, service: Service) -> None:
    """`InvalidInput` unless `doctor` sees patients for `service` in `clinic`."""
    if not (
        doctor.is_active
        and doctor.clinics.filter(pk=clinic.pk).exists()
        and doctor.services.filter(pk=service.pk, is_active=True).exists()
    ):
        raise InvalidInput(
            _("This doctor does not see patients for this in this clinic."),
            code="doctor_mismatch",
        )


def upstream_slot(
    *, doctor: Doctor, service: Service, start: datetime.datetime, external_id: str
) -> ExternalSlot:
    """The slot as picked (from a page or a form), before it is verified upstream."""
    return ExternalSlot(
        external_id=external_id[:64],
        doctor_public_id=doctor.public_id,
        service_code=service.code,
        start=start.astimezone(datetime.UTC),
        end=(start + datetime.timedelta(minutes=service.duration_minutes)).astimezone(datetime.UTC),
    )


def book_upstream(
    *,
    row: ClinicConnector,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    external_id: str,
) -> ExternalAppointment:
    """Verify the picked slot live and book it in the external system (nothing is written
    here but the call log). `SlotTaken` if it vanished, `PolicyViolation` if the system
    refused it by its rules; any failure of the system itself raises its `ConnectorError`."""
    if start <= timezone.now():
        raise SlotTaken(SLOT_VANISHED)
    slot = upstream_slot(doctor=doctor, service=service, start=start, external_id=external_id)
    try:
        slot = runtime.run(row, ConnectorOperation.VERIFY, lambda c: c.verify(slot))
        booked = runtime.run(
            row,
            ConnectorOperation.BOOK,
            lambda c: c.book(BookingOrder(slot=slot, patient_public_id=patient.public_id)),
        )
    except SlotGone as exc:
        slots_changed(row)
        raise SlotTaken(SLOT_VANISHED) from exc
    except BookingRefused as exc:
        raise PolicyViolation(
            _("The clinic's system refused this booking: %(reason)s") % {"reason": exc.detail},
            code="refused_upstream",
        ) from exc
    slots_changed(row)
    return booked


def cancel_upstream_quietly(row: ClinicConnector, external_id: str) -> None:
    """Give a time booked upstream back, when our side could not record it."""
    _cancel_quietly(row, external_id)


def _cancel_quietly(row: ClinicConnector, external_id: str) -> None:
    # A failure is logged as a failed call; the network admin sees it on the connector's page.
    with contextlib.suppress(ConnectorError):
        runtime.run(row, ConnectorOperation.CANCEL, lambda c: c.cancel(external_id))


# --- The periodic sync --------------------------------------------------------------------------


def connectors_sync() -> int:
    """For each enabled connector of a connector-mode clinic: ask the system's health (after
    the circuit's reset time this is the trial call that closes it again), then fetch this
    week's free times of each doctor and service there, so that patients find them cached;
    and drop call logs older than `CONNECTOR_CALL_LOG_DAYS`. Returns how many answered."""
    now = timezone.now()
    ConnectorCall.objects.filter(
        at__lt=now - datetime.timedelta(days=settings.CONNECTOR_CALL_LOG_DAYS)
    ).delete()
    answered = 0
    rows = ClinicConnector.objects.select_related("clinic").filter(
        is_enabled=True, clinic__is_active=True, clinic__booking_policy__mode=BookingMode.CONNECTOR
    )
    for row in rows:
        try:
            runtime.run(row, ConnectorOperation.HEALTH, lambda c: c.health())
        except ConnectorError:
            continue
        answered += 1
        today = now.astimezone(row.clinic.tz).date()
        doctors = Doctor.objects.filter(is_active=True, clinics=row.clinic).prefetch_related(
            "services"
        )
        for doctor in doctors:
            for service in doctor.services.all():
                if service.is_active:
                    connector_week(clinic=row.clinic, service=service, doctor=doctor, first=today)
        ClinicConnector.objects.filter(pk=row.pk).update(last_sync_at=timezone.now())
    return answered


# --- Cancelling a visit booked upstream ------------------------------------------------------

UPSTREAM_DOWN = _(
    "The clinic's booking system is not answering, so the visit cannot be cancelled right now. "
    "Please try again in a few minutes or call the clinic."
)


def connector_cancel(*, appointment: Appointment, actor: Actor, reason: str = "") -> Appointment:
    """Cancel a visit: one booked in an external system is cancelled there first, then here
    (`appointment_cancel`); if the system cannot be reached nothing changes (`UpstreamDown`),
    so the two never disagree about a visit the patient believes cancelled."""
    external = (
        ExternalBooking.objects.select_related("connector__clinic")
        .filter(appointment=appointment)
        .first()
    )
    if external is not None:
        check_may_act_for(actor, appointment.patient)
        try:
            runtime.run(
                external.connector,
                ConnectorOperation.CANCEL,
                lambda c: c.cancel(external.external_id),
            )
        except ConnectorError as exc:
            raise UpstreamDown(UPSTREAM_DOWN) from exc
        slots_changed(external.connector)
    return appointment_cancel(appointment=appointment, actor=actor, reason=reason)
