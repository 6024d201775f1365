from django.db import models
from django.utils.translation import gettext_lazy as _


class BookingMode(models.TextChoices):
    """How a clinic takes bookings: by this engine, through an external system, or on request."""

    NATIVE = "native", _("Native booking")
    CONNECTOR = "connector", _("External system (connector)")
    REQUEST = "request", _("Booking request")


class RoomKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation room")
    PROCEDURE = "procedure", _("Procedure room")
    ULTRASOUND = "ultrasound", _("Ultrasound room")
    XRAY = "xray", _("X-ray room")
    DENTAL = "dental", _("Dental surgery")
    LAB = "lab", _("Laboratory")


class ExceptionKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICK_LEAVE = "sick_leave", _("Sick leave")
    DAY_OFF = "day_off", _("Day off")
    EXTRA_HOURS = "extra_hours", _("Extra hours")


ABSENCE_KINDS = (ExceptionKind.VACATION, ExceptionKind.SICK_LEAVE, ExceptionKind.DAY_OFF)


class Weekday(models.IntegerChoices):
    """Days of the week numbered as Python's `date.weekday()` numbers them: Monday is 0."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class QuotaChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    REFERRAL = "referral", _("Referral")


class AppointmentChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    WAITLIST = "waitlist", _("Waiting list")
    CONNECTOR = "connector", _("External system")
    ASSISTANT = "assistant", _("Assistant")
    # Booked by the clinic's staff from a patient's booking request (request-mode clinics).
    REQUEST = "request", _("Booking request")


# The values as sets, for checks on hot paths (`Choices.values` builds a new list each time).
QUOTA_CHANNELS = frozenset(QuotaChannel.values)
APPOINTMENT_CHANNELS = frozenset(AppointmentChannel.values)


# Which quota a booking consumes by default; walk-ins are people already at the desk.
QUOTA_CHANNEL_OF: dict[str, str | None] = {
    AppointmentChannel.ONLINE: QuotaChannel.ONLINE,
    AppointmentChannel.ASSISTANT: QuotaChannel.ONLINE,
    AppointmentChannel.WAITLIST: QuotaChannel.ONLINE,
    AppointmentChannel.CONNECTOR: QuotaChannel.ONLINE,
    AppointmentChannel.REQUEST: QuotaChannel.ONLINE,
    AppointmentChannel.PHONE: QuotaChannel.PHONE,
    AppointmentChannel.WALK_IN: None,
}

# Channels where the patient books on their own: minimum notice applies to these only.
SELF_SERVICE_CHANNELS = frozenset(
    {
        AppointmentChannel.ONLINE,
        AppointmentChannel.ASSISTANT,
        AppointmentChannel.WAITLIST,
        AppointmentChannel.CONNECTOR,
    }
)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")
    ROLLED_BACK = "rolled_back", _("Rolled back")


S = AppointmentStatus
# Statuses of a visit that is still ahead (counts towards the patient's limit).
UPCOMING_STATUSES = (S.BOOKED, S.CONFIRMED, S.CHECKED_IN)
# Statuses that keep their occupancy rows: only cancelling or rolling back frees the time.
OCCUPYING_STATUSES = (S.BOOKED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW)
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset({S.CONFIRMED, S.CHECKED_IN, S.CANCELLED, S.NO_SHOW, S.ROLLED_BACK}),
    S.CONFIRMED: frozenset({S.CHECKED_IN, S.CANCELLED, S.NO_SHOW, S.ROLLED_BACK}),
    S.CHECKED_IN: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.ROLLED_BACK: frozenset(),
}


class AppointmentEventKind(models.TextChoices):
    BOOKED = "booked", _("Booked")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Marked no-show")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    # A check-in, no-show or completion marked by mistake and taken back at the desk.
    UNDONE = "undone", _("Status mark undone")


class ResourceKind(models.TextChoices):
    DOCTOR = "d", _("Doctor")
    ROOM = "r", _("Room")
    EQUIPMENT = "e", _("Equipment")


class WaitlistStatus(models.TextChoices):
    ACTIVE = "active", _("Waiting")
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Left the list")
    EXPIRED = "expired", _("Expired")


class FreedSlotStatus(models.TextChoices):
    """A slot freed by a cancellation (or opened by a schedule change) as the waitlist works
    it."""

    OFFERING = "offering", _("Being offered")
    FILLED = "filled", _("Filled")
    UNFILLED = "unfilled", _("Nobody took it")
    GONE = "gone", _("No longer free")


class FreedSlotOrigin(models.TextChoices):
    """How a time came to be offered to the waiting list."""

    CANCELLATION = "cancellation", _("Cancellation")
    SCHEDULE = "schedule", _("Schedule change")


class WaitlistOfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    TAKEN = "taken", _("Taken by someone else")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    """A payment as the provider reports it (YooKassa's `waiting_for_capture` never occurs:
    payments are created with automatic capture)."""

    PENDING = "pending", _("Awaiting payment")
    SUCCEEDED = "succeeded", _("Paid")
    CANCELED = "canceled", _("Not paid")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Refund pending")
    SUCCEEDED = "succeeded", _("Refunded")
    CANCELED = "canceled", _("Refund refused")


class LeaveKind(models.TextChoices):
    """What a doctor asks the clinic for (`LeaveRequest`)."""

    DAY_OFF = "day_off", _("Day off")
    SUBSTITUTION = "substitution", _("Substitution")


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class RebookReason(models.TextChoices):
    """Why an appointment was handed to the desk to move or cancel."""

    CLOSURE = "closure", _("Room or device closed")
    LEAVE = "leave", _("Doctor away")
    OTHER = "other", _("Other")


class BookingRequestStatus(models.TextChoices):
    """Where a booking request stands: open until staff answer, proposed while the patient
    chooses among alternatives; the other four are final."""

    OPEN = "open", _("Waiting for the clinic")
    PROPOSED = "proposed", _("Times proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# Requests the clinic or the patient still has to act on.
ACTIVE_REQUEST_STATUSES = (BookingRequestStatus.OPEN, BookingRequestStatus.PROPOSED)


class BookingRequestSource(models.TextChoices):
    """Who left the request."""

    PORTAL = "portal", _("Patient's account")
    DESK = "desk", _("Registrar, on the patient's behalf")
    ASSISTANT = "assistant", _("Assistant")
    CONNECTOR = "connector", _("Booking while the clinic's system was unavailable")


class ContactChannel(models.TextChoices):
    """How the patient wants the clinic to reach them about a request."""

    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class DayPart(models.TextChoices):
    """A part of the day a patient prefers, in the clinic's local time."""

    ANY = "any", _("Any time")
    MORNING = "morning", _("Morning (before 12:00)")
    AFTERNOON = "afternoon", _("Afternoon (12:00–17:00)")
    EVENING = "evening", _("Evening (after 17:00)")


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    FIXED = "fixed", _("Fixed amount off")


class PatientSegment(models.TextChoices):
    """Whom a promotion is for: computed from what the network knows at booking time."""

    EVERYONE = "everyone", _("Everyone")
    FIRST_VISIT = "first_visit", _("First visit to the network")
    AGE_BAND = "age_band", _("Age band")


class ConnectorKind(models.TextChoices):
    """The external schedule systems a connector-mode clinic can be served by."""

    FHIR_R4 = "fhir_r4", _("FHIR R4 server")
    ICS = "ics", _("iCalendar busy-time feed")


class ConnectorOperation(models.TextChoices):
    FREE_SLOTS = "free_slots", _("Free slots")
    VERIFY = "verify", _("Verify a slot")
    BOOK = "book", _("Book")
    CANCEL = "cancel", _("Cancel")
    RESCHEDULE = "reschedule", _("Reschedule")
    HEALTH = "health", _("Health check")


class ConnectorOutcome(models.TextChoices):
    """How an external call ended; `refused` is a business answer (a taken slot), not a fault."""

    OK = "ok", _("Succeeded")
    REFUSED = "refused", _("Refused by the system")
    TIMEOUT = "timeout", _("Timed out")
    ERROR = "error", _("Failed")
    CIRCUIT_OPEN = "circuit_open", _("Not tried: circuit open")
