"""The head nurse's board: the quota calendar of a clinic, the load of its rooms and
equipment, and closures of a room or device that hand the visits concerned to the desk.

Reading needs `schedule.view` in the clinic, every change `schedule.manage` there (403
otherwise); quotas and closures are looked up among the clinics the user sees (404 for
another clinic's). Every change is a POST that redirects back (no JavaScript needed); the
calendar's cells also answer htmx with the cell alone.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import permissions
from portal.models import Clinic
from portal.types import HtmxRequest
from scheduling.choices import QuotaChannel
from scheduling.errors import BookingError
from scheduling.forms.nurse_board import (
    QUOTA_LIMIT_MAX,
    ClosureForm,
    QuotaDayForm,
    QuotaEditForm,
    QuotaForm,
)
from scheduling.models import Doctor, Equipment, RebookTask, Room, Service
from scheduling.selectors.closures import (
    clinic_closures,
    closure_affected,
    get_closure_for_user,
)
from scheduling.selectors.desk import pick_clinic
from scheduling.selectors.nurse import (
    MONTH,
    WEEK,
    get_quota_for_user,
    period_of,
    quota_calendar,
    quota_cell,
    resource_load,
)
from scheduling.services.closures import (
    resource_closure_create,
    resource_closure_hand_over,
    resource_closure_lift,
)
from scheduling.services.quota_editor import (
    quota_create,
    quota_day_set,
    quota_delete,
    quota_update,
)
from scheduling.views.dates import asked_day
from scheduling.views.pick import clinic_choice_page


def _today(clinic: Clinic) -> datetime.date:
    return timezone.now().astimezone(clinic.tz).date()


def _day_param(request: HttpRequest, value: str | None, clinic: Clinic) -> datetime.date:
    """The asked local date, or today in the clinic's zone when absent, not a date or beyond
    the calendar."""
    return asked_day(request, value, today=_today(clinic))


def _page_url(name: str, clinic: Clinic, day: datetime.date | None = None, mode: str = "") -> str:
    query = {"clinic": str(clinic.public_id)}
    if day is not None:
        query["date"] = day.isoformat()
    if mode == MONTH:
        query["view"] = MONTH
    return f"{reverse(name)}?{urlencode(query)}"


def _clinic_or_pick(request: HttpRequest, page: str) -> tuple[Clinic | None, dict[str, Any]]:
    """The clinic asked for (404 if it is not one of the user's), else the only one; with
    the context every page of the board shares."""
    if not permissions.has_capability(request.user, "schedule.view"):
        raise PermissionDenied
    clinic, clinics = pick_clinic(request.user, request.GET.get("clinic"))
    context: dict[str, Any] = {"clinics": clinics, "page": page}
    if clinic is not None:
        context |= {
            "clinic": clinic,
            "may_manage": permissions.has_capability(request.user, "schedule.manage", clinic),
            "quotas_url": _page_url("scheduling:nurse", clinic),
            "load_url": _page_url("scheduling:nurse_load", clinic),
            "closures_url": _page_url("scheduling:nurse_closures", clinic),
        }
    return clinic, context


def _pick(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return clinic_choice_page(
        request,
        context.get("clinics", []),
        heading=_("Head nurse board"),
        lead=_("Choose the clinic whose quotas, rooms and equipment you want to see."),
        context=context,
    )


# --- Quotas ----------------------------------------------------------------------------------


@login_required
@require_GET
@never_cache
def board(request: HttpRequest) -> HttpResponse:
    """The quota calendar of a week or a month."""
    clinic, context = _clinic_or_pick(request, "quotas")
    if clinic is None:
        return _pick(request, context)
    mode = MONTH if request.GET.get("view") == MONTH else WEEK
    day = _day_param(request, request.GET.get("date"), clinic)
    period = period_of(day, mode)
    today = _today(clinic)
    calendar = quota_calendar(clinic=clinic, period=period, today=today)
    context |= {
        "calendar": calendar,
        "mode": mode,
        "week_url": _page_url("scheduling:nurse", clinic, period.first),
        "month_url": _page_url("scheduling:nurse", clinic, period.first, MONTH),
        "previous_url": _page_url("scheduling:nurse", clinic, period.previous, mode),
        "next_url": _page_url("scheduling:nurse", clinic, period.next, mode),
        "today_url": _page_url("scheduling:nurse", clinic, today, mode),
        "new_quota_url": _page_url("scheduling:nurse_quota_new", clinic),
    }
    return render(request, "scheduling/nurse/quotas.html", context)


def _quota_choices(clinic: Clinic) -> dict[str, Any]:
    return {
        "channels": QuotaChannel.choices,
        "doctors": list(
            Doctor.objects.filter(clinics=clinic, is_active=True).order_by(
                "last_name", "first_name"
            )
        ),
        "services": list(Service.objects.filter(is_active=True).order_by("name")),
    }


@login_required
@require_http_methods(["GET", "POST"])
def quota_new(request: HttpRequest) -> HttpResponse:
    if not permissions.has_capability(request.user, "schedule.manage"):
        raise PermissionDenied
    clinic, context = _clinic_or_pick(request, "quotas")
    if clinic is None:
        return _pick(request, context)
    permissions.require_capability(request.user, "schedule.manage", clinic)
    form = QuotaForm(request.POST or None, **_quota_choices(clinic))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            quota_create(
                clinic=clinic,
                channel=data["channel"],
                limit=data["limit"],
                doctor=data["doctor"],
                service=data["service"],
                release_before_hours=data["release_before_hours"],
                actor=request.user,
            )
        except BookingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The quota is added."))
            return redirect(context["quotas_url"])
    context |= {"form": form, "quota": None}
    return render(request, "scheduling/nurse/quota_form.html", context)


def _quota_context(request: HttpRequest, quota: Any) -> dict[str, Any]:
    clinic = quota.clinic
    return {
        "clinic": clinic,
        "page": "quotas",
        "may_manage": True,
        "quotas_url": _page_url("scheduling:nurse", clinic),
        "load_url": _page_url("scheduling:nurse_load", clinic),
        "closures_url": _page_url("scheduling:nurse_closures", clinic),
    }


@login_required
@require_http_methods(["GET", "POST"])
def quota_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quota = get_quota_for_user(request.user, pk)
    permissions.require_capability(request.user, "schedule.manage", quota.clinic)
    context = _quota_context(request, quota)
    initial = {"limit": quota.limit, "release_before_hours": quota.release_before_hours}
    form = QuotaEditForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        quota_update(
            quota=quota,
            limit=form.cleaned_data["limit"],
            release_before_hours=form.cleaned_data["release_before_hours"],
            actor=request.user,
        )
        messages.success(request, _("The quota is saved."))
        return redirect(context["quotas_url"])
    context |= {"form": form, "quota": quota}
    return render(request, "scheduling/nurse/quota_form.html", context)


@login_required
@require_POST
def quota_remove(request: HttpRequest, pk: int) -> HttpResponse:
    quota = get_quota_for_user(request.user, pk)
    clinic = quota.clinic
    permissions.require_capability(request.user, "schedule.manage", clinic)
    quota_delete(quota=quota, actor=request.user)
    messages.success(request, _("The quota is removed."))
    return redirect(_page_url("scheduling:nurse", clinic))


@login_required
@require_POST
def quota_day(request: HtmxRequest, pk: int) -> HttpResponse:
    """Set or clear one day's limit; htmx gets the cell back, a plain form the calendar."""
    quota = get_quota_for_user(request.user, pk)
    clinic = quota.clinic
    permissions.require_capability(request.user, "schedule.manage", clinic)
    form = QuotaDayForm(request.POST)
    mode = MONTH if request.POST.get("view") == MONTH else WEEK
    error = ""
    if form.is_valid():
        day = form.cleaned_data["day"]
        try:
            quota_day_set(
                quota=quota, day=day, limit=form.cleaned_data["limit"], actor=request.user
            )
        except BookingError as exc:
            error = str(exc)
    else:
        day = _day_param(request, request.POST.get("day"), clinic)
        error = _("A limit is a whole number from 0 to %(max)d.") % {"max": QUOTA_LIMIT_MAX}
        if "day" in form.errors:
            error = _("Choose a date within the calendar.")
    if request.htmx:
        cell = quota_cell(quota=quota, day=day, today=_today(clinic))
        return render(
            request,
            "scheduling/nurse/htmx/quota_cell.html",
            {"quota": quota, "cell": cell, "mode": mode, "may_manage": True, "error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The day's limit is saved."))
    return redirect(_page_url("scheduling:nurse", clinic, day, mode))


# --- Load ------------------------------------------------------------------------------------


@login_required
@require_GET
@never_cache
def load(request: HttpRequest) -> HttpResponse:
    """Rooms and equipment with their load per day and over the week."""
    clinic, context = _clinic_or_pick(request, "load")
    if clinic is None:
        return _pick(request, context)
    day = _day_param(request, request.GET.get("date"), clinic)
    period = period_of(day, WEEK)
    today = _today(clinic)
    context |= {
        "load": resource_load(clinic=clinic, period=period),
        "today": today,
        "previous_url": _page_url("scheduling:nurse_load", clinic, period.previous),
        "next_url": _page_url("scheduling:nurse_load", clinic, period.next),
        "today_url": _page_url("scheduling:nurse_load", clinic, today),
    }
    return render(request, "scheduling/nurse/load.html", context)


# --- Closures --------------------------------------------------------------------------------


def _closure_form(request: HttpRequest, clinic: Clinic) -> ClosureForm:
    return ClosureForm(
        request.POST if request.method == "POST" else None,
        clinic=clinic,
        rooms=list(Room.objects.filter(clinic=clinic, is_active=True).order_by("name")),
        equipment=list(Equipment.objects.filter(clinic=clinic, is_active=True).order_by("name")),
    )


@login_required
@require_http_methods(["GET", "POST"])
def closures(request: HttpRequest) -> HttpResponse:
    """The clinic's closures, and the form that closes a room or device."""
    clinic, context = _clinic_or_pick(request, "closures")
    if clinic is None:
        return _pick(request, context)
    form = _closure_form(request, clinic)
    if request.method == "POST":
        permissions.require_capability(request.user, "schedule.manage", clinic)
        if form.is_valid():
            data = form.cleaned_data
            try:
                closure, tasks = resource_closure_create(
                    clinic=clinic,
                    room=data["room"],
                    equipment=data["equipment"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except BookingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    ngettext(
                        "The closure is saved; %(count)d visit is sent to the desk to rebook.",
                        "The closure is saved; %(count)d visits are sent to the desk to rebook.",
                        len(tasks),
                    )
                    % {"count": len(tasks)},
                )
                return redirect("scheduling:nurse_closure", pk=closure.pk)
    now = timezone.now()
    current, past = clinic_closures(clinic=clinic, now=now)
    context |= {"form": form, "current": current, "past": past, "now": now}
    return render(request, "scheduling/nurse/closures.html", context)


@login_required
@require_GET
@never_cache
def closure(request: HttpRequest, pk: int) -> HttpResponse:
    """One closure with the visits it affects and whether the desk has them."""
    item = get_closure_for_user(request.user, pk)
    clinic = item.clinic
    now = timezone.now()
    affected = closure_affected(closure=item, now=now)
    with_task = set(
        RebookTask.objects.filter(appointment__in=affected, closed_at__isnull=True).values_list(
            "appointment_id", flat=True
        )
    )
    context = _quota_context(request, item) | {
        "page": "closures",
        "may_manage": permissions.has_capability(request.user, "schedule.manage", clinic),
        "closure": item,
        "lines": [(a, a.pk in with_task) for a in affected],
        "not_handed": sum(1 for a in affected if a.pk not in with_task),
        "now": now,
    }
    return render(request, "scheduling/nurse/closure.html", context)


@login_required
@require_POST
def closure_lift(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_closure_for_user(request.user, pk)
    permissions.require_capability(request.user, "schedule.manage", item.clinic)
    try:
        resource_closure_lift(closure=item, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The closure is lifted: the time can be booked again."))
    return redirect("scheduling:nurse_closure", pk=item.pk)


@login_required
@require_POST
def closure_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_closure_for_user(request.user, pk)
    permissions.require_capability(request.user, "schedule.manage", item.clinic)
    tasks = resource_closure_hand_over(closure=item, actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d visit is sent to the desk to rebook.",
            "%(count)d visits are sent to the desk to rebook.",
            len(tasks),
        )
        % {"count": len(tasks)},
    )
    return redirect("scheduling:nurse_closure", pk=item.pk)
