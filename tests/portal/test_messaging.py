"""The kernel hands its own messages (sign-in and consent codes) over through
`portal.messaging`; `notifications` registers the outbox there at start-up."""

import pytest

from notifications.models import OutboxMessage
from portal import messaging


@pytest.mark.django_db
def test_notifications_takes_messages_over_into_the_outbox(patient):
    message = messaging.hand_over_message(
        event="auth.login_code", channel="sms", to="+79140000001", patient=patient, context={}
    )
    assert OutboxMessage.objects.get() == message
    assert message.to_address == "+79140000001"


def test_without_a_handler_it_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(messaging, "_handler", None)
    with pytest.raises(messaging.NoMessageHandler, match="'notifications' to INSTALLED_APPS"):
        messaging.hand_over_message(event="e", channel="sms", to="+79140000001", context={})


def test_a_registered_handler_gets_every_argument(monkeypatch):
    received = []
    monkeypatch.setattr(messaging, "_handler", None)
    messaging.register_message_handler(lambda **kwargs: received.append(kwargs) or "ok")
    assert (
        messaging.hand_over_message(event="e", channel="email", context={"a": 1}, language="en")
        == "ok"
    )
    assert received == [
        {
            "event": "e",
            "channel": "email",
            "context": {"a": 1},
            "patient": None,
            "to": None,
            "language": "en",
        }
    ]
