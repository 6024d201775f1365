"""Domain errors of the CRM, each with a translated sentence for the user."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.errors import PortalError


class LeadInvalid(PortalError):
    """The lead cannot be recorded as given; `field` names the form field at fault."""

    default_message = _("Check the form: something in it cannot be accepted.")

    def __init__(self, message=None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
