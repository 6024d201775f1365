"""Reading tasks on leads: a lead's tasks, an owner's list, who may own them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404

from crm.models import Lead, LeadTask
from crm.permissions import CAPABILITY, leads_visible_to, require_crm_user
from portal import permissions
from portal.models import StaffMembership, User
from portal.types import RequestUser

PAGE_SIZE = 50


def tasks_of_lead(lead: Lead) -> list[LeadTask]:
    """Open tasks first, by due time; then the done ones."""
    tasks = list(lead.tasks.select_related("owner", "done_by"))
    return sorted(tasks, key=lambda t: (t.done_at is not None, t.due_at, t.pk))


def owners_for(lead: Lead) -> QuerySet[User]:
    """Users who may own tasks on `lead`: CRM users of its clinic, or network-wide ones."""
    roles = permissions.CAPABILITIES[CAPABILITY]
    where = Q(clinic__isnull=True)
    if lead.clinic_id is not None:
        where |= Q(clinic_id=lead.clinic_id)
    members = StaffMembership.objects.filter(where, role__in=roles).values("user_id")
    return User.objects.filter(pk__in=members, is_active=True).order_by("email")


@dataclass(frozen=True)
class TaskFilters:
    everyone: bool = False  # all visible leads' tasks, not only the user's own
    done: bool = False  # the done ones instead of the open ones


def tasks_page(*, user: RequestUser, filters: TaskFilters, page: int | str = 1) -> Page[Any]:
    """Tasks on the leads the user may see — their own unless `everyone` — open ones by due
    time (overdue first), done ones newest first."""
    require_crm_user(user)
    tasks = LeadTask.objects.filter(lead__in=leads_visible_to(user)).select_related(
        "lead", "owner", "done_by"
    )
    if not filters.everyone:
        tasks = tasks.filter(owner_id=user.pk)
    if filters.done:
        tasks = tasks.filter(done_at__isnull=False).order_by("-done_at", "-pk")
    else:
        tasks = tasks.filter(done_at__isnull=True).order_by("due_at", "pk")
    return Paginator(tasks, PAGE_SIZE).get_page(page)


def get_task_for_user(user: RequestUser, pk: int) -> LeadTask:
    """A task on a lead the user may see: 403 without the CRM, 404 for another clinic's."""
    require_crm_user(user)
    task = (
        LeadTask.objects.filter(pk=pk, lead__in=leads_visible_to(user))
        .select_related("lead")
        .first()
    )
    if task is None:
        raise Http404
    return task
