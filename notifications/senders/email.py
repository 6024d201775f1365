"""E-mail through Django's mail backend (EMAIL_BACKEND: SMTP in production).

Name it for the e-mail channel: NOTIFICATION_SENDERS="email=notifications.senders.email.MailSender".
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from notifications.senders import Sender, SendError


class MailSender(Sender):
    """Sends one message as plain-text e-mail from DEFAULT_FROM_EMAIL.

    SMTP has no idempotency key: the Message-ID is derived from the message's public id, so a
    message sent again after a worker died carries the same id, which mail clients fold into
    one.
    """

    name = "email"

    def send(self, message) -> str:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or None
        message_id = f"<{message.public_id}@{domain or 'medfront'}>"
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to_address],
            headers={"Message-ID": message_id},
        )
        try:
            mail.send()
        except OSError as exc:  # smtplib's errors and refused connections are OSErrors.
            raise SendError(exc.__class__.__name__) from exc
        return message_id
