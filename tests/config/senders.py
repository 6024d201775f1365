"""A stand-in for a real provider's sender, for the production profile's start-up tests."""

from notifications.senders import Sender


class ProviderStandIn(Sender):
    name = "stand-in"

    def send(self, message) -> str:
        return f"stand-in-{message.public_id}"
