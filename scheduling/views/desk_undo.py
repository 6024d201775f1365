"""The desk's undo of a status marked by mistake (check-in, no-show, completion): one POST from
the appointment's desk page, with a reason."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from scheduling.errors import BookingError
from scheduling.selectors.desk import get_desk_appointment
from scheduling.services.booking import appointment_status_undo


@login_required
@require_POST
def undo_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Return the visit to the status it had before its latest mark; the red button's
    capability is checked in the visit's own clinic."""
    found = get_desk_appointment(request.user, public_id)
    permissions.require_capability(request.user, "appointment.rollback", found.clinic)
    seen = request.POST.get("event", "")
    try:
        changed = appointment_status_undo(
            appointment=found,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            event_id=int(seen) if seen.isdigit() else None,
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Undone: the visit's status is back to “%(status)s”.")
            % {"status": changed.get_status_display()},
        )
    return redirect(reverse("scheduling:desk_appointment", args=[found.public_id]))
