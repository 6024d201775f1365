from __future__ import annotations

from notifications.senders import Sender


class DevelopmentSender(Sender):
    """Delivers nowhere: the rendered message stays in the outbox, browsable at
    /notifications/outbox/ while DEV_OUTBOX_ENABLED is on."""

    name = "development"

    def send(self, message) -> str:
        return f"dev-{message.public_id}"
