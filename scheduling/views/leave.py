"""Deciding doctors' leave requests: the head nurse's and clinic admin's list of pending
requests with the visits each touches, and the approve / decline actions.

Needs `schedule.manage` (others: 403); a request of another clinic is 404. Every change is a
POST that redirects back to the list with what happened; a refusal changes nothing.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from scheduling.errors import BookingError
from scheduling.models import Doctor
from scheduling.selectors.leave import (
    get_leave_request_for_user,
    leave_requests_decided,
    leave_requests_to_decide,
)
from scheduling.services.leave import (
    MAX_DECISION_REASON_LENGTH,
    leave_request_approve,
    leave_request_decline,
)


@login_required
@require_GET
@never_cache
def leave_requests(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scheduling/leave/requests.html",
        {
            "rows": leave_requests_to_decide(user=request.user),
            "decided": leave_requests_decided(user=request.user),
            "max_reason": MAX_DECISION_REASON_LENGTH,
        },
    )


def _substitute(value: str) -> Doctor | None:
    """The doctor picked on the form; None for none or an unknown id (the service refuses a
    substitution without one)."""
    try:
        public_id = uuid.UUID(value.strip())
    except ValueError:
        return None
    return Doctor.objects.filter(public_id=public_id, is_active=True).first()


@login_required
@require_POST
def leave_approve(request: HttpRequest, pk: int) -> HttpResponse:
    leave = get_leave_request_for_user(request.user, pk)
    picked = request.POST.get("substitute", "")
    substitute = _substitute(picked)
    if picked and substitute is None:
        messages.error(request, _("This doctor could not be found. Choose the substitute again."))
        return redirect("scheduling:leave_requests")
    try:
        decision = leave_request_approve(
            request=leave,
            actor=request.user,
            substitute=substitute,
            reason=request.POST.get("reason", ""),
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect("scheduling:leave_requests")
    done = [_("Approved.")]
    if decision.moved:
        done.append(
            ngettext(
                "%(count)d visit moved to the substitute.",
                "%(count)d visits moved to the substitute.",
                len(decision.moved),
            )
            % {"count": len(decision.moved)}
        )
    if decision.to_desk:
        done.append(
            ngettext(
                "%(count)d visit handed to the desk to rebook.",
                "%(count)d visits handed to the desk to rebook.",
                len(decision.to_desk),
            )
            % {"count": len(decision.to_desk)}
        )
    messages.success(request, " ".join(done))
    return redirect("scheduling:leave_requests")


@login_required
@require_POST
def leave_decline(request: HttpRequest, pk: int) -> HttpResponse:
    leave = get_leave_request_for_user(request.user, pk)
    try:
        leave_request_decline(
            request=leave, actor=request.user, reason=request.POST.get("reason", "")
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Declined; the doctor is told why."))
    return redirect("scheduling:leave_requests")
