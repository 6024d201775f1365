from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LeadSource(models.TextChoices):
    """Where a lead came from: the first touch."""

    WEB_FORM = "web_form", _("Website form")
    CALL = "call", _("Phone call")
    MESSENGER = "messenger", _("Messenger")
    WALK_IN = "walk_in", _("Walk-in")
    ASSISTANT = "assistant", _("Assistant")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class StageKind(models.TextChoices):
    """What reaching a pipeline stage means for the funnel."""

    OPEN = "open", _("In progress")
    WON = "won", pgettext_lazy("lead stage", "Booked")
    LOST = "lost", _("Lost")


class LeadEventKind(models.TextChoices):
    CREATED = "created", _("Lead received")
    TOUCH = "touch", _("Came back")
    STAGE = "stage", _("Stage changed")
    OWNER = "owner", _("Owner changed")
    NOTE = "note", _("Note")
    CONTACTED = "contacted", _("First contact")
    PATIENT = "patient", _("Linked to a patient")
    BOOKED = "booked", _("Booked a visit")


class CampaignChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class KnowledgeKind(models.TextChoices):
    """What a knowledge-base article answers."""

    FAQ = "faq", _("Question and answer")
    PREPARATION = "preparation", _("Preparation for a visit or a test")
    DIRECTIONS = "directions", _("Address, hours and directions")
    PRICES = "prices", _("Prices")


class KnowledgeLanguage(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")


class ImportStatus(models.TextChoices):
    """Where an import job is: a dry run and the real run go through the same cursor."""

    UPLOADED = "uploaded", _("Uploaded: check the mapping")
    CHECKING = "checking", _("Dry run in progress")
    CHECKED = "checked", _("Dry run done")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", pgettext_lazy("import status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("import status", "Cancelled")


class ImportOutcome(models.TextChoices):
    """What one row of an import did (or, in a dry run, would do)."""

    ERROR = "error", _("Skipped: error")
    LINKED = "linked", _("Linked to an existing profile")
    FLAGGED = "flagged", _("Created, probable duplicate")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class ConversationChannel(models.TextChoices):
    """Where a conversation with the assistant takes place."""

    WIDGET = "widget", _("Website chat")
    TELEGRAM = "telegram", _("Telegram")
    SMS = "sms", _("SMS")
    API = "api", _("API")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("With the assistant")
    HANDED_OVER = "handed_over", _("Waiting for an operator")
    CLOSED = "closed", _("Closed")


class TurnAuthor(models.TextChoices):
    PATIENT = "patient", _("Patient")
    ASSISTANT = "assistant", _("Assistant")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")


class HandoffReason(models.TextChoices):
    ASKED = "asked", _("Asked for a person")
    LOW_CONFIDENCE = "low_confidence", _("Not understood twice")
    UNHAPPY = "unhappy", _("Unhappy patient")
