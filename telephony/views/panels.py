"""The registrar desk's day board panels (`portal.panels.DESK`): the caller-ID card and the
count of callers to ring back; and the callback section of the desk's queues page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal import permissions
from portal.models import Clinic
from telephony.selectors.calls import open_callback_counts, open_callbacks


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


def desk_callbacks_badge(request: HttpRequest, *, clinic: Clinic) -> dict[str, Any] | None:
    """The day board's queue strip: how many callers of this clinic wait to be rung back."""
    if not permissions.has_capability(request.user, "telephony.answer", clinic):
        return None
    total, overdue = open_callback_counts(user=request.user, clinic=clinic)
    return {"count": total, "overdue": overdue}
