"""Channel senders. Real providers (SMS.ru, Telegram, SMTP...) plug in behind `Sender`."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


class SendError(Exception):
    """A provider refused or could not be reached; the outbox retries with back-off."""


class Sender:
    """Delivers one message and returns the provider's message id.

    `message.public_id` is the idempotency key: the outbox sends a message again when the worker
    that sent it died before recording the outcome, and the provider (or the sender, where the
    provider has no such key) must not deliver one key twice. Raise `SendError` when the
    provider refuses or cannot be reached.
    """

    name = "base"

    def send(self, message) -> str:  # pragma: no cover - interface
        raise NotImplementedError


DEFAULT_SENDERS = {
    "email": "notifications.senders.development.DevelopmentSender",
    "sms": "notifications.senders.development.DevelopmentSender",
    "messenger": "notifications.senders.development.DevelopmentSender",
}


def get_sender(channel: str) -> Sender:
    paths = {**DEFAULT_SENDERS, **getattr(settings, "NOTIFICATION_SENDERS", {})}
    return import_string(paths[channel])()
