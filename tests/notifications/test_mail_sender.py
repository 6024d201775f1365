"""The e-mail sender hands the rendered message to Django's mail backend."""

import pytest
from django.core import mail
from django.test import override_settings

from notifications.dispatch import outbox_dispatch_due
from notifications.senders.email import MailSender
from notifications.services import outbox_enqueue

pytestmark = pytest.mark.django_db


@override_settings(
    NOTIFICATION_SENDERS={"email": "notifications.senders.email.MailSender"},
    DEFAULT_FROM_EMAIL="Clinics <noreply@clinics.example>",
)
def test_a_message_goes_out_as_mail_with_a_message_id_of_its_public_id():
    message = outbox_enqueue(
        event="auth.mail.login_code",
        channel="email",
        to="anna@example.test",
        context={"subject": "Medfront: code", "text": "Your code: 123456"},
    )
    assert outbox_dispatch_due() == 1
    [sent] = mail.outbox
    assert sent.to == ["anna@example.test"]
    assert sent.subject == "Medfront: code"
    assert sent.body == "Your code: 123456"
    assert sent.extra_headers["Message-ID"] == f"<{message.public_id}@clinics.example>"
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider == MailSender.name
