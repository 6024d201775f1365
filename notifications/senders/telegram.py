"""Messages through a Telegram bot (Bot API `sendMessage`, https://core.telegram.org/bots/api).

Name it for the messenger channel:
NOTIFICATION_SENDERS="messenger=notifications.senders.telegram.TelegramSender".
Settings: TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL, TELEGRAM_BOT_USERNAME, TELEGRAM_WEBHOOK_SECRET
(README, "Telegram bot"). Replies come to `views.telegram_webhook`; a patient's chat is linked
from the portal with a one-time code.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from notifications.senders import PermanentSendError, Sender, SendError, json_answer

# Telegram's answers about the chat itself (blocked by the user, chat gone, user
# deactivated): sending again fails the same way.
PERMANENT_HTTP_CODES = frozenset({400, 403})


class TelegramSender(Sender):
    """Sends one text message per outbox message with POST /bot<token>/sendMessage.

    The Bot API has no idempotency key: a worker that dies after Telegram took the message and
    before the outcome was recorded makes it go twice, as with the SMS providers. The provider
    id is Telegram's message_id (the chat id, which is PII, is not repeated in it).
    """

    name = "telegram"

    def send(self, message) -> str:
        payload = {
            "chat_id": message.to_address,
            "text": message.body,
            "link_preview_options": {"is_disabled": True},
        }
        url = (
            f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
        )
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.SMS_PROVIDER_TIMEOUT_SECONDS
            ) as response:
                answer = json_answer(response.read(), provider="Telegram")
        except urllib.error.HTTPError as exc:
            _raise_for_refusal(exc)
        except (urllib.error.URLError, OSError) as exc:
            # The URL holds the bot token: only the class name is kept.
            raise SendError(f"Telegram unreachable ({exc.__class__.__name__})") from exc
        result = answer.get("result") if answer.get("ok") is True else None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if message_id is None:
            raise SendError("Telegram answered without a message_id")
        return str(message_id)


def _raise_for_refusal(exc: urllib.error.HTTPError) -> None:
    """Telegram's error object: {"ok": false, "error_code": 403, "description": "..."}. The
    description may name the chat, so only the code is kept; 429 says when to try again and
    is retried with the outbox's back-off like any temporary error."""
    error = f"Telegram answered HTTP {exc.code}"
    if exc.code in PERMANENT_HTTP_CODES:
        raise PermanentSendError(error) from exc
    raise SendError(error) from exc
