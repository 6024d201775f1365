from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")


# The values as a set, for the outbox's check (`Choices.values` builds a new list each time).
CHANNELS = frozenset(Channel.values)


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryStatus(models.TextChoices):
    """What the provider's status callbacks last said about a sent message."""

    QUEUED = "queued", _("Queued at the provider")
    SENT = "sent", _("Passed to the operator")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Not delivered")
    EXPIRED = "expired", _("Expired undelivered")


# A later callback may arrive before an earlier one: a status never goes back to a lower rank.
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.EXPIRED: 3,
}


class InboundKeyword(models.TextChoices):
    """What an inbound SMS or messenger reply was read as."""

    STOP = "stop", _("STOP")
    START = "start", _("START")
    HELP = "help", _("HELP")
    YES = "yes", _("YES")
    NO = "no", _("NO")
    LINK = "link", _("Telegram link code")
    OTHER = "other", _("Other text")


class Lane(models.TextChoices):
    """Which dispatcher (and Celery queue) sends a message: booking-critical ones never wait
    behind a mass send (a whole day's reminders, a campaign)."""

    CRITICAL = "critical", _("Critical")
    BULK = "bulk", _("Bulk")


class LogState(models.TextChoices):
    """One message's state as the message log and the daily counts show it: the outbox status
    and, once sent, what the provider last reported."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
