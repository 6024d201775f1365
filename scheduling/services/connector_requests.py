"""Confirming a booking request of a connector-mode clinic with a time of its external system.

A connector clinic has no schedule here, so a request it received (the system was down when
the patient booked, or the patient asked by request) is answered with a live upstream time:
verified and booked there, mirrored here, and the request closed as a native confirmation
closes it (`request_mark_confirmed`: timestamps, audit, the patient told through the outbox).

Invariants:

- The external call runs before our transaction; if the system cannot be reached, or the time
  is gone or refused there, nothing changes here and the request stays open (`UpstreamDown`,
  `SlotTaken`, `PolicyViolation`).
- If our side then cannot record it (someone answered the request meanwhile, or our records
  have the doctor busy), the upstream visit is cancelled again, so nothing is left booked
  there that the request does not show.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.types import Actor
from scheduling.choices import ACTIVE_REQUEST_STATUSES, AppointmentChannel
from scheduling.connectors.base import ConnectorError
from scheduling.errors import InvalidInput, InvalidTransition, SlotTaken, UpstreamDown
from scheduling.models import BookingRequest, Doctor, Service
from scheduling.selectors.connector_requests import bookable_connector
from scheduling.services.booking import appointment_mirror_external
from scheduling.services.booking.guards import require_staff_actor
from scheduling.services.booking_requests import (
    check_request_service,
    lock_request,
    request_mark_confirmed,
)
from scheduling.services.connectors import (
    book_upstream,
    cancel_upstream_quietly,
    check_clinic_offers,
)

UPSTREAM_DOWN = _(
    "The clinic's booking system is not answering, so nothing was booked and the request "
    "is still open. Try again in a few minutes, propose times, or call the patient."
)


def booking_request_confirm_upstream(
    *,
    request: BookingRequest,
    doctor: Doctor,
    service: Service,
    start: datetime.datetime,
    external_id: str,
    actor: Actor,
) -> BookingRequest:
    """Staff confirm an open or proposed request of a connector clinic with the external
    system's slot `external_id` at `start`. Raises `InvalidTransition` for an answered
    request, `InvalidInput` for a doctor, service or clinic that does not fit it, `SlotTaken`
    if the time vanished, `PolicyViolation` if the system refused it, `UpstreamDown` if the
    system cannot be reached; in each case the request is left as it was."""
    require_staff_actor(actor)
    row = bookable_connector(request)
    if row is None:
        raise InvalidInput(
            _("This clinic's requests are answered with times of its own schedule."),
            code="not_connector_mode",
        )
    current = BookingRequest.objects.select_related("patient", "clinic").get(pk=request.pk)
    if current.status not in ACTIVE_REQUEST_STATUSES:
        raise InvalidTransition(
            _("This request has been answered or closed already."), code="request_closed"
        )
    check_request_service(current, service)
    check_clinic_offers(clinic=current.clinic, doctor=doctor, service=service)
    try:
        booked = book_upstream(
            row=row,
            patient=current.patient,
            doctor=doctor,
            service=service,
            start=start,
            external_id=external_id,
        )
    except ConnectorError as exc:
        raise UpstreamDown(UPSTREAM_DOWN) from exc
    try:
        with transaction.atomic():
            locked = lock_request(current, *ACTIVE_REQUEST_STATUSES)
            appointment = appointment_mirror_external(
                patient=locked.patient,
                doctor=doctor,
                service=service,
                clinic=locked.clinic,
                connector=row,
                external_id=booked.external_id,
                start=booked.start,
                end=booked.end,
                channel=AppointmentChannel.REQUEST,
                actor=actor,
                notify=False,
            )
            return request_mark_confirmed(locked, appointment, actor)
    except (SlotTaken, InvalidTransition):
        cancel_upstream_quietly(row, booked.external_id)
        raise
