"""E-mails as the tests read them: recorded in the outbox and delivered by the development
sender, which renders their subject and text."""

from __future__ import annotations

from notifications.dispatch import outbox_dispatch_due
from notifications.models import OutboxMessage


def sent_mails(to: str | None = None) -> list[OutboxMessage]:
    """The outbox's e-mails (to `to` if given), oldest first, after delivering those due."""
    outbox_dispatch_due()
    mails = OutboxMessage.objects.filter(channel="email").order_by("created_at", "id")
    return [mail for mail in mails if to is None or mail.to_address == to]
