"""SMS through SMS.ru's HTTP API (https://sms.ru/api/send).

Name it for the SMS channel: NOTIFICATION_SENDERS="sms=notifications.senders.smsru.SmsRuSender".
Settings: SMSRU_API_ID, SMSRU_API_URL, SMSRU_SENDER_NAME, SMSRU_TEST, SMSRU_CALLBACK_TOKEN
(README, "Messaging providers"). Delivery reports come to `views.smsru_status`.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from notifications.choices import DeliveryStatus
from notifications.senders import PermanentSendError, Sender, SendError, json_answer

logger = logging.getLogger(__name__)

# Status codes SMS.ru answers for a request or one number. These refuse the message itself, so
# sending it again fails the same way: a wrong or unreachable number, no text, a text over the
# length limit, a number in the stop list, a text that is not UTF-8.
PERMANENT_CODES = frozenset({202, 203, 205, 207, 209, 212})
# Worth naming in the outbox's error: the operator has to act (top up, fix the key, get the
# sender name approved); the message is retried with back-off meanwhile.
CODE_NAMES = {
    200: "wrong api_id",
    201: "insufficient balance",
    204: "sender name not approved",
    206: "daily limit reached",
    220: "service temporarily unavailable",
    230: "daily limit for this number reached",
    231: "too many identical messages this minute",
    232: "too many identical messages today",
    300: "wrong token",
    301: "wrong api_id or password",
    302: "account not confirmed",
    500: "server error",
}

# Delivery statuses of SMS.ru's callbacks and its sms/status method.
DELIVERY_CODES = {
    100: DeliveryStatus.QUEUED,
    101: DeliveryStatus.SENT,
    102: DeliveryStatus.SENT,
    103: DeliveryStatus.DELIVERED,
    104: DeliveryStatus.EXPIRED,
    105: DeliveryStatus.FAILED,
    106: DeliveryStatus.FAILED,
    107: DeliveryStatus.FAILED,
    108: DeliveryStatus.FAILED,
    110: DeliveryStatus.DELIVERED,  # read (messengers): delivered at least
    150: DeliveryStatus.FAILED,
}


def smsru_number(phone: str) -> str:
    """SMS.ru takes international numbers as digits only: +7 999 123-45-67 → 79991234567."""
    return "".join(ch for ch in phone if ch.isdigit())


class SmsRuSender(Sender):
    """Sends one SMS per message through /sms/send.

    SMS.ru has no idempotency key: a message whose worker died after SMS.ru took it and before
    the outcome was recorded is sent again when the outbox reclaims it (rare: the window is one
    HTTP answer).
    """

    name = "smsru"

    def send(self, message) -> str:
        number = smsru_number(message.to_address)
        fields = {
            "api_id": settings.SMSRU_API_ID,
            "to": number,
            "msg": message.body,
            "json": "1",
        }
        if settings.SMSRU_SENDER_NAME:
            fields["from"] = settings.SMSRU_SENDER_NAME
        if settings.SMSRU_TEST:
            fields["test"] = "1"
        answer = self._post("/sms/send", fields)
        self._raise_for_code(answer, where="request")
        result = (answer.get("sms") or {}).get(number)
        if not isinstance(result, dict):
            raise SendError("SMS.ru answered without this number's result")
        self._raise_for_code(result, where="number")
        sms_id = str(result.get("sms_id") or "")
        if not sms_id:
            raise SendError("SMS.ru answered OK without an sms_id")
        return sms_id

    def _post(self, path: str, fields: dict[str, str]) -> dict:
        # POST keeps the api_id and the number out of any proxy's request log.
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            settings.SMSRU_API_URL.rstrip("/") + path,
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.SMS_PROVIDER_TIMEOUT_SECONDS
            ) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SendError(f"SMS.ru answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SendError(f"SMS.ru unreachable ({exc.__class__.__name__})") from exc
        return json_answer(raw, provider="SMS.ru")

    @staticmethod
    def _raise_for_code(part: dict, *, where: str) -> None:
        if part.get("status") == "OK":
            return
        try:
            code = int(part.get("status_code", ""))
        except (TypeError, ValueError):
            code = 0
        # SMS.ru's status_text may quote the number: only the code is kept.
        error = f"SMS.ru refused the {where}: {code} {CODE_NAMES.get(code, '')}".strip()
        if code in PERMANENT_CODES:
            raise PermanentSendError(error)
        raise SendError(error)


def parse_smsru_callback(lines: list[str]) -> list[tuple[str, DeliveryStatus]]:
    """The (sms_id, status) pairs of a status callback's `data[]` lines.

    Each line is "sms_status\\n<sms_id>\\n<status code>\\n<unix time>"; SMS.ru also sends other
    kinds of lines (a callback check), which carry no delivery report and are skipped, as are
    codes we do not map.
    """
    reports = []
    for line in lines:
        parts = line.replace("\r\n", "\n").split("\n")
        if len(parts) < 3 or parts[0].strip() != "sms_status":
            continue
        sms_id = parts[1].strip()
        try:
            status = DELIVERY_CODES.get(int(parts[2].strip()))
        except ValueError:
            continue
        if sms_id and status is not None:
            reports.append((sms_id, status))
    return reports


def parse_smsru_incoming(lines: list[str]) -> list[tuple[str, str, str]]:
    """The (id, sender, text) of each incoming SMS among a callback's `data[]` lines.

    A line is "sms_incoming\\n<id>\\n<sender's number>\\n<text>\\n<unix time>"; the text may
    hold line breaks of its own, so it is everything between the number and the last line.
    Other kinds of lines (delivery reports, the callback check) are skipped.
    """
    messages = []
    for line in lines:
        parts = line.replace("\r\n", "\n").split("\n")
        if len(parts) < 5 or parts[0].strip() != "sms_incoming":
            continue
        sms_id, sender = parts[1].strip(), parts[2].strip()
        if sms_id and sender:
            messages.append((sms_id, sender, "\n".join(parts[3:-1]).strip()))
    return messages
