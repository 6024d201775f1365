from .appointments import (
    Appointment,
    AppointmentEvent,
    AppointmentMove,
    Hold,
    Occupancy,
    RollbackRecord,
)
from .calendar import CalendarFeedToken
from .catalogue import Doctor, Equipment, EquipmentType, Room, Service, Specialty
from .desk import RebookTask
from .documents import OrganisationInvoice, VisitSummary
from .payments import Payment, PaymentWebhookEvent, Refund, TestGatewayPayment
from .rules import (
    BookingPolicy,
    LeaveRequest,
    Quota,
    QuotaCounter,
    ScheduleException,
    ScheduleRule,
    Substitution,
)
from .waitlist import FreedSlot, WaitlistEntry, WaitlistOffer

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentMove",
    "BookingPolicy",
    "CalendarFeedToken",
    "Doctor",
    "Equipment",
    "EquipmentType",
    "FreedSlot",
    "Hold",
    "LeaveRequest",
    "Occupancy",
    "OrganisationInvoice",
    "Payment",
    "PaymentWebhookEvent",
    "Quota",
    "QuotaCounter",
    "RebookTask",
    "Refund",
    "RollbackRecord",
    "Room",
    "ScheduleException",
    "ScheduleRule",
    "Service",
    "Specialty",
    "Substitution",
    "TestGatewayPayment",
    "VisitSummary",
    "WaitlistEntry",
    "WaitlistOffer",
]
