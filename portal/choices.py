from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Staff roles. Patients are not a membership role: a patient is a user with a profile."""

    REGISTRAR = "registrar", _("Registrar")
    HEAD_NURSE = "head_nurse", _("Head nurse")
    DOCTOR = "doctor", _("Doctor")
    CLINIC_ADMIN = "clinic_admin", _("Clinic administrator")
    MARKETER = "marketer", _("Marketer")
    DIRECTOR = "director", _("Director")
    NETWORK_ADMIN = "network_admin", _("Network administrator")


PATIENT_ROLE = "patient"
# Roles that only make sense inside one clinic.
CLINIC_SCOPED_ROLES = (Role.REGISTRAR, Role.HEAD_NURSE, Role.DOCTOR, Role.CLINIC_ADMIN)


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNKNOWN = "unknown", _("Not stated")


class IdDocumentType(models.TextChoices):
    PASSPORT_RU = "passport_ru", _("Russian passport")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    FOREIGN_PASSPORT = "foreign_passport", _("Foreign passport")
    OTHER = "other", _("Other document")


class FamilyRelation(models.TextChoices):
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SPOUSE = "spouse", _("Spouse")
    WARD = "ward", _("Ward")
    OTHER = "other", _("Other relative")


class LegalBasis(models.TextChoices):
    """Why the guardian may act for the dependant."""

    PARENT_OF_MINOR = "parent_of_minor", _("Parent of a minor")
    COURT_GUARDIANSHIP = "court_guardianship", _("Guardianship by court decision")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Notarised power of attorney")
    CONSENT_OF_ADULT = "consent_of_adult", _("Written consent of the adult dependant")


class ConsentPurpose(models.TextChoices):
    """One consent per purpose: bundling purposes is not allowed (ECOSYSTEM.md)."""

    PERSONAL_DATA = "personal_data", _("Processing of personal data for medical services")
    SERVICE_NOTIFICATIONS = "service_notifications", _("Service notifications")
    ADVERTISING = "advertising", _("Advertising messages")
    THIRD_PARTY_TRANSFER = "third_party_transfer", _("Transfer to third parties")
    MEDICAL_INTERVENTION = "medical_intervention", _("Informed voluntary consent to intervention")
    COOKIES_ANALYTICS = "cookies_analytics", _("Cookies and analytics")


class ConsentChannel(models.TextChoices):
    WEB = "web", _("Web portal")
    DESK = "desk", _("Front desk")
    PAPER = "paper", _("Paper, scanned")
    API = "api", _("API")


class SignatureMethod(models.TextChoices):
    SMS_CODE = "sms_code", _("Simple e-signature: SMS code")
    ACCOUNT_CONFIRMATION = "account", _("Confirmation in a signed-in account")
    HANDWRITTEN = "handwritten", _("Handwritten signature")


class SignerKind(models.TextChoices):
    PATIENT = "patient", _("Patient")
    REPRESENTATIVE = "representative", _("Legal representative")


class VatMode(models.TextChoices):
    NONE = "none", _("No VAT")
    VAT0 = "vat0", _("VAT 0%")
    VAT5 = "vat5", _("VAT 5%")
    VAT7 = "vat7", _("VAT 7%")
    VAT10 = "vat10", _("VAT 10%")
    VAT22 = "vat22", _("VAT 22%")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    VIEW = "view", _("Viewed")
    SEARCH = "search", _("Searched")
    LIST = "list", _("Listed")
    EXPORT = "export", _("Exported")
    CLAIM = "claim", _("Claimed by patient")
    ANONYMISE = "anonymise", _("Anonymised")


class ContactChannel(models.TextChoices):
    """The channels a patient may be written to; the values are the outbox's channel names."""

    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Telegram")


class MessageKind(models.TextChoices):
    """What a message is for, as the patient's preferences distinguish them."""

    CARE = "care", _("Visits: confirmations and reminders")
    MARKETING = "marketing", _("News and offers")


class IntegrationScope(models.TextChoices):
    """What an integration token may do (`portal.models.IntegrationToken`)."""

    FHIR_READ = "fhir.read", _("FHIR: read schedules, free slots and visits")
    FHIR_WRITE = "fhir.write", _("FHIR: book and cancel visits")
