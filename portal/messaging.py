"""Handing over a message the kernel sends itself (sign-in and consent codes).

Apps depend one way, portal → notifications → scheduling → crm → analytics, so the kernel
cannot import the outbox. Instead `notifications` registers its `outbox_enqueue` here at
start-up (`NotificationsConfig.ready`), and the kernel calls `hand_over_message`. Like
`outbox_enqueue`, the handler records the message in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

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


# The development outbox shows a browser the messages it caused (a new user finishing sign-up
# on `make run` has no staff role to read the whole outbox). Only while DEV_OUTBOX_ENABLED.
BROWSER_MESSAGES_KEY = "medfront_dev_outbox"
BROWSER_MESSAGES_KEPT = 20


def remember_for_this_browser(request, message: Any) -> None:
    """Note `message` (what the handler returned) as sent by this browser's session."""
    public_id = getattr(message, "public_id", None)
    if not settings.DEV_OUTBOX_ENABLED or public_id is None:
        return
    session = getattr(request, "session", None)
    if session is None:
        return
    kept = [str(public_id), *session.get(BROWSER_MESSAGES_KEY, [])]
    session[BROWSER_MESSAGES_KEY] = kept[:BROWSER_MESSAGES_KEPT]


def messages_of_this_browser(request) -> list[str]:
    """Public ids of the messages this browser's session caused, newest first."""
    session = getattr(request, "session", None)
    if not settings.DEV_OUTBOX_ENABLED or session is None:
        return []
    kept = session.get(BROWSER_MESSAGES_KEY, [])
    return [str(item) for item in kept] if isinstance(kept, list) else []
