from .api_tokens import ApiToken
from .audit import AuditEvent, AuditSeal, MaintenanceCheckpoint
from .clinics import Clinic, LegalEntity, StaffMembership
from .consents import Consent, ConsentDocument
from .contact import ContactPreference, MessengerLink, MessengerLinkCode
from .idempotency import IdempotencyRecord
from .integration_tokens import IntegrationToken
from .patients import FamilyLink, Patient
from .users import User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditSeal",
    "Clinic",
    "Consent",
    "ConsentDocument",
    "ContactPreference",
    "FamilyLink",
    "IdempotencyRecord",
    "IntegrationToken",
    "LegalEntity",
    "MaintenanceCheckpoint",
    "MessengerLink",
    "MessengerLinkCode",
    "Patient",
    "StaffMembership",
    "User",
]
