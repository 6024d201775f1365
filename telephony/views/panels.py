"""The caller-ID panel on the registrar desk's day board (a `portal.panels.DESK` panel)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal import permissions
from portal.models import Clinic
from telephony.selectors.calls import open_callbacks


def desk_caller_panel(request: HttpRequest, *, clinic: Clinic) -> dict[str, Any] | None:
    """Shown to those who answer this clinic's lines; it polls for the ringing call itself."""
    if not permissions.has_capability(request.user, "telephony.answer", clinic):
        return None
    return {"poll_seconds": settings.TELEPHONY_POLL_SECONDS}


def desk_queue_callbacks(request: HttpRequest) -> dict[str, Any] | None:
    """The callback queue's section on the desk's queues page, for those who answer lines."""
    if not permissions.has_capability(request.user, "telephony.answer"):
        return None
    return {"queue": open_callbacks(user=request.user)}
