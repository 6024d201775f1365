"""The base of the portal's domain errors: each carries a translated sentence for the user."""

from __future__ import annotations

from django_stubs_ext import StrOrPromise


class PortalError(Exception):
    """A domain rule was broken; `message` is a translated sentence for the user."""

    # Lazy (gettext_lazy) in subclasses: translated in the language active when it is shown.
    default_message: StrOrPromise = "The request could not be completed."

    def __init__(self, message: StrOrPromise | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(str(self.message))
