"""Channel senders. Real providers (SMS.ru, Telegram, SMTP...) plug in behind `Sender`,
named per channel in the NOTIFICATION_SENDERS setting."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.module_loading import import_string

DEVELOPMENT_SENDER = "notifications.senders.development.DevelopmentSender"

DEFAULT_SENDERS = {
    "email": DEVELOPMENT_SENDER,
    "sms": DEVELOPMENT_SENDER,
    "messenger": DEVELOPMENT_SENDER,
}


class SendError(Exception):
    """A provider refused or could not be reached; the outbox retries with back-off."""


class PermanentSendError(SendError):
    """The provider refused this message for good (a number it cannot reach, a stop list):
    sending it again would fail the same way, so the outbox marks it failed at once."""


def json_answer(raw: bytes, *, provider: str) -> dict:
    """A provider's answer as a JSON object; anything else is a `SendError` (retried), since a
    proxy or an outage page answers HTML."""
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise SendError(f"{provider} answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise SendError(f"{provider} answered something that is not a JSON object")
    return answer


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


def sender_paths() -> dict[str, str]:
    """The dotted path of each channel's sender: NOTIFICATION_SENDERS over the defaults."""
    return {**DEFAULT_SENDERS, **settings.NOTIFICATION_SENDERS}


def development_sender_channels() -> list[str]:
    """The channels the development sender serves, which deliver nothing."""
    return sorted(channel for channel, path in sender_paths().items() if path == DEVELOPMENT_SENDER)


def get_sender(channel: str) -> Sender:
    return import_string(sender_paths()[channel])()
