"""Sign-in texts go out through the outbox, like every other message.

Until a real SMS provider is configured the development sender leaves them on
/notifications/outbox/. Codes sit in the message context, which the outbox encrypts.
"""

from __future__ import annotations

from django.db import transaction

EVENT_LOGIN_CODE = "auth.login_code"
EVENT_VERIFY_PHONE = "auth.verify_phone"
EVENT_ACCOUNT_EXISTS = "auth.account_exists"


def send_auth_sms(*, event: str, phone: str, context: dict, patient=None) -> None:
    # notifications sits to the right of portal (DESIGN.md); imported here, not at module
    # level, so the kernel stays importable on its own.
    from notifications.services import outbox_enqueue

    with transaction.atomic():
        outbox_enqueue(event=event, channel="sms", to=phone, patient=patient, context=context)
