"""Sign-in texts go out through the outbox, like every other message: handed over through
`portal.messaging`, where `notifications` registers the outbox.

Until a real SMS provider is configured the development sender leaves them on
/notifications/outbox/. Codes sit in the message context, which the outbox encrypts.
"""

from __future__ import annotations

from django.db import transaction

from portal.messaging import hand_over_message, remember_for_this_browser

EVENT_LOGIN_CODE = "auth.login_code"
EVENT_VERIFY_PHONE = "auth.verify_phone"
EVENT_ACCOUNT_EXISTS = "auth.account_exists"


def send_auth_sms(*, event: str, phone: str, context: dict, patient=None, request=None) -> None:
    with transaction.atomic():
        message = hand_over_message(
            event=event, channel="sms", to=phone, patient=patient, context=context
        )
    remember_for_this_browser(request, message)
