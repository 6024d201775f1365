"""Moving a visit booked in a clinic's external system (connector mode): the patient from
"my visits" or the desk picks a new time of that system.

Invariants:

- The new time is verified live and booked there before anything changes here; if it is
  gone, refused or the system cannot be reached, nothing changes anywhere (`SlotTaken`,
  `PolicyViolation`, `UpstreamDown`).
- The move is then recorded here (`appointment_mirror_external_move`); if our records refuse
  it, the new upstream visit is cancelled again.
- The old upstream visit is cancelled last. If that call fails the move still stands (the
  patient's visit is at the new time in both systems); the failed call is in the connector's
  log for the network admin, and the patient is never left without a visit.
- Patients are held to the clinic's reschedule deadline and limit, as for native visits.
"""

from __future__ import annotations

import contextlib
import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.types import Actor
from scheduling.choices import AppointmentStatus, ConnectorOperation
from scheduling.connectors import runtime
from scheduling.connectors.base import ConnectorError
from scheduling.errors import InvalidInput, InvalidTransition, UpstreamDown
from scheduling.models import Appointment
from scheduling.selectors.connector_slots import external_booking_of, slots_changed
from scheduling.selectors.policy import policy_for
from scheduling.services.booking import appointment_mirror_external_move, check_may_act_for
from scheduling.services.booking.move import check_patient_may_move
from scheduling.services.connectors import book_upstream, cancel_upstream_quietly

UPSTREAM_DOWN = _(
    "The clinic's booking system is not answering, so the visit was not moved. "
    "Please try again in a few minutes or call the clinic."
)


def connector_reschedule(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    external_id: str,
    actor: Actor,
    reason: str = "",
) -> Appointment:
    """Move an upstream-booked `appointment` to the external system's slot `external_id` at
    `start` (same doctor and service). Raises `InvalidInput` for a visit not booked upstream
    or the same time, `InvalidTransition` for one past or closed, `PolicyViolation` past a
    patient's deadline or limit or when the system refuses, `SlotTaken` if the time is gone,
    `UpstreamDown` if the system cannot be reached; nothing changes when it raises."""
    external = external_booking_of(appointment)
    if external is None:
        raise InvalidInput(code="not_external")
    check_may_act_for(actor, appointment.patient)
    now = timezone.now()
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        raise InvalidTransition(code="not_movable")
    if appointment.starts_at <= now:
        raise InvalidTransition(code="already_started")
    if permissions.acts_as_patient(actor):
        check_patient_may_move(appointment, policy_for(appointment.clinic), now=now)
    if start == appointment.starts_at:
        raise InvalidInput(code="same_time")
    row = external.connector
    try:
        booked = book_upstream(
            row=row,
            patient=appointment.patient,
            doctor=appointment.doctor,
            service=appointment.service,
            start=start,
            external_id=external_id,
        )
    except ConnectorError as exc:
        raise UpstreamDown(UPSTREAM_DOWN) from exc
    try:
        moved = appointment_mirror_external_move(
            appointment=appointment,
            external_id=booked.external_id,
            start=booked.start,
            end=booked.end,
            actor=actor,
            reason=reason,
        )
    except Exception:
        cancel_upstream_quietly(row, booked.external_id)
        raise
    with contextlib.suppress(ConnectorError):
        runtime.run(row, ConnectorOperation.RESCHEDULE, lambda c: c.cancel(external.external_id))
    slots_changed(row)
    return moved
