"""The caller-ID panel on the registrar desk's day board (a `portal.panels.DESK` panel)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal import permissions
from portal.models import Clinic


def desk_caller_panel(request: HttpRequest, *, clinic: Clinic) -> dict[str, Any] | None:
    """Shown to those who answer this clinic's lines; it polls for the ringing call itself."""
    if not permissions.has_capability(request.user, "telephony.answer", clinic):
        return None
    return {"poll_seconds": settings.TELEPHONY_POLL_SECONDS}
