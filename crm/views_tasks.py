"""Tasks on leads: added on the lead card, listed for their owner, ticked off there or here."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.errors import LeadInvalid
from crm.forms import TaskForm
from crm.permissions import get_lead_for_user, require_crm_user
from crm.selectors.tasks import TaskFilters, get_task_for_user, owners_for, tasks_page
from crm.services.tasks import lead_task_add, lead_task_set_done


@login_required
@require_http_methods(["GET"])
def tasks(request):
    require_crm_user(request.user)
    filters = TaskFilters(
        everyone=request.GET.get("who") == "all", done=request.GET.get("state") == "done"
    )
    page = tasks_page(user=request.user, filters=filters, page=request.GET.get("page", 1))
    return render(request, "crm/tasks.html", {"page": page, "filters": filters})


@login_required
@require_http_methods(["POST"])
def task_add(request, public_id):
    lead = get_lead_for_user(request.user, public_id)
    form = TaskForm(request.POST, owners=owners_for(lead))
    if not form.is_valid():
        messages.error(request, _("Check the task: what to do, when and who does it."))
        return redirect("crm:lead", lead.public_id)
    try:
        lead_task_add(
            lead=lead,
            text=form.cleaned_data["text"],
            due_at=form.cleaned_data["due_at"],
            owner=form.cleaned_data["owner"],
            actor=request.user,
        )
    except LeadInvalid as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The task is added."))
    return redirect("crm:lead", lead.public_id)


@login_required
@require_http_methods(["POST"])
def task_done(request, pk):
    task = get_task_for_user(request.user, pk)
    lead_task_set_done(task=task, done=request.POST.get("done") == "1", actor=request.user)
    if request.POST.get("back") == "lead":
        return redirect("crm:lead", task.lead.public_id)
    return redirect("crm:tasks")


def default_due() -> datetime.datetime:
    """Tomorrow at ten, local time: the form's suggestion."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return datetime.datetime.combine(
        tomorrow, datetime.time(10), tzinfo=timezone.get_current_timezone()
    )
