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
from .pricing import Promotion, ServicePrice
from .rules import (
    BookingPolicy,
    LeaveRequest,
    Quota,
    QuotaCounter,
    ScheduleException,
    ScheduleRule,
    Substitution,
)
from .waitlist import WaitlistEntry

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentMove",
    "BookingPolicy",
    "CalendarFeedToken",
    "Doctor",
    "Equipment",
    "EquipmentType",
    "Hold",
    "LeaveRequest",
    "Occupancy",
    "OrganisationInvoice",
    "Payment",
    "PaymentWebhookEvent",
    "Promotion",
    "Quota",
    "QuotaCounter",
    "RebookTask",
    "Refund",
    "RollbackRecord",
    "Room",
    "ScheduleException",
    "ScheduleRule",
    "Service",
    "ServicePrice",
    "Specialty",
    "Substitution",
    "TestGatewayPayment",
    "VisitSummary",
    "WaitlistEntry",
]
