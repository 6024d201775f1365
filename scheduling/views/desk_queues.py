"""The registrar desk's queues: work other people and systems hand to the desk.

One page, one section per kind of work: the visits to rebook (`RebookTask`, built here), then
the sections other apps register as `portal.panels.DESK_QUEUES` panels (telephony's callbacks;
booking requests and waitlist offers when they come). The day board shows a link with the
count of visits to rebook (a `DESK` panel).

Needs `appointment.book` (registrars, clinic and network admins); a task of another clinic
is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.models import Clinic
from portal.panels import DESK_QUEUES, panels_for
from scheduling.selectors.desk_queues import (
    get_rebook_task_for_user,
    open_rebook_task_count,
    open_rebook_tasks,
)
from scheduling.services.rebooking import rebook_task_close


@login_required
@require_GET
@never_cache
def queues(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scheduling/desk/queues.html",
        {
            "rebook_rows": open_rebook_tasks(user=request.user),
            "now": timezone.now(),
            "panels": panels_for(DESK_QUEUES, request),
        },
    )


@login_required
@require_POST
def rebook_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_rebook_task_for_user(request.user, pk)
    if task.closed_at is not None:
        messages.info(request, _("This task was closed already."))
    else:
        rebook_task_close(task=task, actor=request.user)
        messages.success(request, _("The task is closed."))
    return redirect("scheduling:desk_queues")


def desk_queue_badge(request: HttpRequest, *, clinic: Clinic) -> dict[str, Any] | None:
    """The day board's link to the queues with the clinic's count of visits to rebook."""
    count = open_rebook_task_count(user=request.user, clinic=clinic)
    if count is None:
        return None
    return {"count": count}
