from .absences import LeaveRequest, Substitution
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
from .closures import ResourceClosure
from .connectors import ClinicConnector, ConnectorCall, ExternalBooking
from .desk import RebookTask
from .documents import OrganisationInvoice, VisitSummary
from .payments import Payment, PaymentWebhookEvent, Refund, TestGatewayPayment
from .pricing import Promotion, ServicePrice
from .quotas import Quota, QuotaCounter
from .refusals import RefusedOverlap
from .requests import BookingRequest, ProposedSlot
from .rules import BookingPolicy, ScheduleException, ScheduleRule
from .waitlist import FreedSlot, WaitlistEntry, WaitlistOffer

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentMove",
    "BookingPolicy",
    "BookingRequest",
    "CalendarFeedToken",
    "ClinicConnector",
    "ConnectorCall",
    "Doctor",
    "Equipment",
    "EquipmentType",
    "ExternalBooking",
    "FreedSlot",
    "Hold",
    "LeaveRequest",
    "Occupancy",
    "OrganisationInvoice",
    "Payment",
    "PaymentWebhookEvent",
    "ProposedSlot",
    "Promotion",
    "Quota",
    "QuotaCounter",
    "RebookTask",
    "RefusedOverlap",
    "Refund",
    "ResourceClosure",
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
    "WaitlistOffer",
]
