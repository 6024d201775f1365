"""Domain errors of the booking engine.

Each carries a stable machine `code`, a human translatable `message` and the HTTP status the
API maps it to (409 for a conflict with someone else's change, 422 for a booking rule, 400 for
malformed input). Services raise them and never change anything when they do.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    """Base of every booking-engine error."""

    code = "booking_error"
    default_message: Any = _("The booking could not be completed.")
    http_status = 422

    def __init__(self, message: Any = None, *, code: str | None = None, **params: Any) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(BookingError):
    """Malformed or unknown input: a bad date, an unknown id, an over-long range."""

    code = "invalid_input"
    default_message = _("The request is not valid.")
    http_status = 400


class SlotTaken(BookingError):
    """Someone else took the time (or the doctor, room or equipment) first."""

    code = "slot_taken"
    default_message = _("This time has just been taken. Please choose another slot.")
    http_status = 409


class SlotUnavailable(BookingError):
    """The time is not a slot the schedule offers (outside hours, misaligned, in a DST gap)."""

    code = "slot_unavailable"
    default_message = _("This time is not available for booking.")


class QuotaExceeded(BookingError):
    code = "quota_exceeded"
    default_message = _("No more bookings of this kind are available on this day.")


class OutsideBookingWindow(BookingError):
    """Too soon (minimum notice), in the past, or beyond the booking horizon."""

    code = "outside_booking_window"
    default_message = _("This time is outside the booking window.")


class PolicyViolation(BookingError):
    """A clinic booking policy forbids it (limits of active bookings or reschedules, deadlines)."""

    code = "policy_violation"
    default_message = _("The clinic's booking rules do not allow this.")


class NotAllowed(BookingError):
    """The actor may not act for this patient or this appointment."""

    code = "not_allowed"
    default_message = _("You may not do this for this patient.")
    http_status = 403


class OtherClinic(NotAllowed):
    """Staff may book only into the clinics where they hold the booking role."""

    code = "other_clinic"
    default_message = _("This doctor works in another clinic at that time; you cannot book there.")


class InvalidTransition(BookingError):
    """The appointment's status does not allow this change."""

    code = "invalid_transition"
    default_message = _("This appointment can no longer be changed this way.")
    http_status = 409


class RollbackConflict(BookingError):
    """Rollback would need a time that has been taken since, or is no longer possible."""

    code = "rollback_conflict"
    default_message = _("The change cannot be undone: the previous time has been taken since.")
    http_status = 409


class HoldInvalid(BookingError):
    """The hold is expired, belongs to someone else, or is for another slot."""

    code = "hold_invalid"
    default_message = _("The reservation has expired. Please choose the slot again.")
    http_status = 409


class PaymentUnavailable(BookingError):
    """The payment provider did not answer or refused to create the payment."""

    code = "payment_unavailable"
    default_message = _("The payment service is not answering. Please try again in a minute.")
    http_status = 503


class PaymentMismatch(BookingError):
    """What the provider reports does not match our payment (another id, amount or currency)."""

    code = "payment_mismatch"
    default_message = _("The payment does not match the visit.")
    http_status = 409


class PromotionInvalid(BookingError):
    """The promo code is unknown, not valid for this booking, or used up; nothing is booked."""

    code = "promo_invalid"
    default_message = _("This promo code cannot be used for this visit.")


class UpstreamDown(BookingError):
    """The external system that keeps the clinic's schedule cannot be reached for a change
    that must happen there first."""

    code = "upstream_down"
    default_message = _(
        "The clinic's booking system is not answering. Please try again in a few minutes."
    )
    http_status = 503
