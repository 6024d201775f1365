"""Handing over a message the kernel sends itself (sign-in and consent codes).

Apps depend one way, portal → notifications → scheduling → crm → analytics, so the kernel
cannot import the outbox. Instead `notifications` registers its `outbox_enqueue` here at
start-up (`NotificationsConfig.ready`), and the kernel calls `hand_over_message`. Like
`outbox_enqueue`, the handler records the message in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from portal.models import Patient


class MessageHandler(Protocol):
    def __call__(
        self,
        *,
        event: str,
        channel: str,
        context: dict[str, Any],
        patient: Patient | None = None,
        to: str | None = None,
        language: str | None = None,
    ) -> Any: ...


class NoMessageHandler(RuntimeError):
    """Nothing registered to deliver messages: `notifications` is missing from INSTALLED_APPS."""


_handler: MessageHandler | None = None


def register_message_handler(handler: MessageHandler) -> None:
    """Make `handler` the one that takes messages over (one per process; the last one wins)."""
    global _handler
    _handler = handler


def hand_over_message(
    *,
    event: str,
    channel: str,
    context: dict[str, Any],
    patient: Patient | None = None,
    to: str | None = None,
    language: str | None = None,
) -> Any:
    """Give a message to the registered handler; returns what the handler returns."""
    if _handler is None:
        raise NoMessageHandler(
            "No message handler is registered: add 'notifications' to INSTALLED_APPS; its "
            "ready() registers the outbox with portal.messaging.register_message_handler."
        )
    return _handler(
        event=event, channel=channel, context=context, patient=patient, to=to, language=language
    )
