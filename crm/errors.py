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


class ImportFileInvalid(PortalError):
    """The uploaded file cannot be read as a table of patients."""

    default_message = _("The file cannot be read as a table.")


class ImportNotAllowed(PortalError):
    """The import job is not in a state that allows this step."""

    default_message = _("This step is not possible for the import in its current state.")


class MergeRefused(PortalError):
    """Two profiles cannot be merged as asked."""

    default_message = _("These profiles cannot be merged.")
