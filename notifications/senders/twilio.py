"""SMS through Twilio's Messages API, for clinics abroad.

Name it for the SMS channel: NOTIFICATION_SENDERS="sms=notifications.senders.twilio.TwilioSender".
Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID, TWILIO_API_URL, TWILIO_STATUS_CALLBACK_URL (README, "Messaging
providers"). Delivery reports come to `views.twilio_status`, signed as `twilio_signature` says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from django.conf import settings

from notifications.choices import DeliveryStatus
from notifications.senders import PermanentSendError, Sender, SendError, json_answer

# Twilio's error codes that refuse the message itself (an invalid or unreachable "To", a
# number that replied STOP): sending it again fails the same way.
PERMANENT_ERRORS = frozenset({21211, 21408, 21610, 21612, 21614, 21617})

DELIVERY_STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature of a form POST: HMAC-SHA1 with the auth token over the full
    URL followed by each parameter's name and value, sorted by name then value, a repeated
    (name, value) pair counted once (as Twilio's own validators do), base64-encoded."""
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioSender(Sender):
    """Sends one SMS per message with POST /2010-04-01/Accounts/{sid}/Messages.json.

    Twilio's Messages API takes no idempotency key: as with SMS.ru, a worker that dies after
    Twilio took the message and before the outcome was recorded makes it go twice.
    """

    name = "twilio"

    def send(self, message) -> str:
        fields = {"To": message.to_address, "Body": message.body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            fields["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            fields["From"] = settings.TWILIO_FROM_NUMBER
        if settings.TWILIO_STATUS_CALLBACK_URL:
            fields["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK_URL
        sid = settings.TWILIO_ACCOUNT_SID
        url = (
            f"{settings.TWILIO_API_URL.rstrip('/')}/2010-04-01/Accounts/"
            f"{urllib.parse.quote(sid, safe='')}/Messages.json"
        )
        credentials = base64.b64encode(f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            url,
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
            headers={"Authorization": f"Basic {credentials}"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.SMS_PROVIDER_TIMEOUT_SECONDS
            ) as response:
                answer = json_answer(response.read(), provider="Twilio")
        except urllib.error.HTTPError as exc:
            _raise_for_refusal(exc)
        except (urllib.error.URLError, OSError) as exc:
            raise SendError(f"Twilio unreachable ({exc.__class__.__name__})") from exc
        if answer.get("status") in ("failed", "undelivered", "canceled"):
            raise PermanentSendError(f"Twilio refused the message: {answer.get('error_code')}")
        message_sid = str(answer.get("sid") or "")
        if not message_sid:
            raise SendError("Twilio answered without a message sid")
        return message_sid


def _raise_for_refusal(exc: urllib.error.HTTPError) -> None:
    """A 4xx names Twilio's error code; the ones about the recipient are final. Twilio's
    `message` text quotes the number, so only the code is kept."""
    try:
        code = int(json.loads(exc.read()).get("code"))
    except (ValueError, TypeError, AttributeError, OSError):
        code = 0
    error = f"Twilio answered HTTP {exc.code}, error {code}"
    if exc.code == 400 and code in PERMANENT_ERRORS:
        raise PermanentSendError(error) from exc
    raise SendError(error) from exc
