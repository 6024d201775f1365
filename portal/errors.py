"""The base of the portal's domain errors: each carries a translated sentence for the user."""


class PortalError(Exception):
    """A domain rule was broken; `message` is a translated sentence for the user."""

    default_message = "The request could not be completed."

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))
