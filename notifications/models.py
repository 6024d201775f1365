import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.choices import (
    Channel,
    DeliveryStatus,
    InboundKeyword,
    Lane,
    LogState,
    MessageStatus,
)
from portal.fields import EncryptedCharField, EncryptedJSONField, EncryptedTextField
from portal.models import Clinic, Patient


class OutboxMessage(models.Model):
    """A message recorded in the same transaction as the change that caused it.

    A periodic task (and an on-commit nudge) claims due rows one at a time with SKIP LOCKED and
    hands each to the channel's sender; nothing is sent for a rolled-back change because the row
    never commits. A message left `sending` by a worker that died is claimed again once its
    claim is older than OUTBOX_CLAIM_TIMEOUT_SECONDS; `public_id` is the sender's idempotency
    key, so a provider that got it before the crash does not deliver it twice. The address,
    context and rendered text are PII and are encrypted.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=60)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    # The clinic the message is about (a visit's clinic): scopes the staff message log, the
    # clinic's own templates and the daily counts. None for network messages (sign-in codes).
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    # Which dispatcher sends it (`notifications.choices.Lane`), set from the event.
    lane = models.CharField(_("lane"), max_length=8, choices=Lane.choices, default=Lane.CRITICAL)
    to_address = EncryptedCharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="ru")
    context = EncryptedJSONField(_("context"), default=dict, blank=True)
    subject = EncryptedCharField(_("subject"), max_length=200, blank=True)
    body = EncryptedTextField(_("text"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    due_at = models.DateTimeField(_("due at"))  # the dispatcher's claims use outbox_due_idx
    # Set by each claim: the claim's age tells a dead worker's message from one in flight, and
    # only the latest claim may record the outcome.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"), default=5)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=30, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    # Set by the provider's status callbacks (`notifications.dispatch.delivery_record`).
    delivery_status = models.CharField(
        _("delivery status"), max_length=12, choices=DeliveryStatus.choices, blank=True
    )
    delivery_updated_at = models.DateTimeField(_("delivery status updated"), null=True, blank=True)
    # Unique where set (Meta.constraints): most messages have none, and need no index entry.
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["status", "due_at"], name="outbox_due_idx"),
            # Each lane's dispatcher claims its own due messages without walking past the
            # other lane's: a day of reminders does not slow the critical claim down.
            models.Index(fields=["lane", "status", "due_at"], name="outbox_lane_due_idx"),
            # Status callbacks find their message by the provider's id.
            models.Index(
                fields=["provider", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="outbox_provider_id_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="outbox_idempotency_key_unique",
            )
        ]

    def __str__(self):
        return f"{self.event} via {self.channel} ({self.status})"


class InboundMessage(models.Model):
    """One SMS or messenger message a patient (or anyone) sent us, recorded once.

    `(provider, external_id)` is unique: a provider repeating a callback, or a replayed
    webhook, finds its row and changes nothing. The sender is kept only as the matched
    patient; the text is kept (encrypted) only when a patient was matched, so nothing an
    unknown sender wrote is stored.
    """

    provider = models.CharField(_("provider"), max_length=30)
    external_id = models.CharField(_("provider's message id"), max_length=100)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    keyword = models.CharField(_("read as"), max_length=10, choices=InboundKeyword.choices)
    body = EncryptedTextField(_("text"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="inbound_once_per_provider_id"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.keyword}"


class MessageTemplate(models.Model):
    """A clinic's (or, with no clinic, the network's) own text for one event on one channel in
    one language, replacing the shipped file template.

    The text uses `{placeholder}` names from the event's whitelist only
    (`notifications.templating`); nothing else of the message's context or of any object is
    reachable, and a text naming an unknown placeholder is refused before it is saved. At most
    one row per clinic (or network) × event × channel × language.
    """

    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
        help_text=_("Empty: the network's default for every clinic."),
    )
    event = models.CharField(_("event"), max_length=60)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=2000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        ordering = ["event", "channel", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "event", "channel", "language"],
                condition=models.Q(clinic__isnull=False),
                name="message_template_clinic_unique",
            ),
            models.UniqueConstraint(
                fields=["event", "channel", "language"],
                condition=models.Q(clinic__isnull=True),
                name="message_template_network_unique",
            ),
        ]

    def __str__(self):
        return f"{self.event} via {self.channel} ({self.language})"


class MessageDailyCount(models.Model):
    """How many messages of one day, clinic, channel, event and final state the retention purge
    deleted: what analytics keeps of messages once their rows are gone. The purge adds to a
    row in the same transaction as it deletes the messages it counted, so a count is never
    taken twice. `date` is the UTC day the message was recorded.
    """

    date = models.DateField(_("date"))
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic"),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    event = models.CharField(_("event"), max_length=60)
    status = models.CharField(_("status"), max_length=12, choices=LogState.choices)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("daily message count")
        verbose_name_plural = _("daily message counts")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "clinic", "channel", "event", "status"],
                condition=models.Q(clinic__isnull=False),
                name="message_daily_count_clinic_unique",
            ),
            models.UniqueConstraint(
                fields=["date", "channel", "event", "status"],
                condition=models.Q(clinic__isnull=True),
                name="message_daily_count_network_unique",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.event} via {self.channel}: {self.status} × {self.count}"
