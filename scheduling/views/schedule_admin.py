"""The clinic's schedule pages: the doctors × weekdays grid of weekly rules (add, edit, remove),
exceptions (absences and extra hours) and the booking policy.

Rules and exceptions need `schedule.manage` in the clinic (head nurse, clinic admin, network
admin); the booking policy is changed with `catalogue.manage` (clinic admin, network admin:
it sets the commercial terms patients book under) and read by the other schedule managers.
Other roles get 403; a clinic, rule or exception that is not the user's gets 404.

Every page works without JavaScript (forms post and redirect); with htmx, a rule's form opens
beside the grid and an absence's booked visits are counted while it is being typed.
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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import permissions
from portal.models import Clinic
from portal.selectors.network import utc_offset_label
from portal.types import HtmxRequest
from scheduling.choices import ABSENCE_KINDS, ExceptionKind, Weekday
from scheduling.errors import BookingError
from scheduling.forms.schedule import (
    BookingPolicyForm,
    ScheduleExceptionForm,
    ScheduleRuleForm,
    breaks_text,
)
from scheduling.models import ScheduleRule, Service
from scheduling.selectors.schedule_admin import (
    absence_hits,
    clinic_doctors,
    clinic_exceptions,
    clinic_policy,
    clinic_rooms,
    get_clinic_exception,
    get_clinic_rule,
    get_schedule_clinic,
    schedule_clinics,
    schedule_grid,
)
from scheduling.services.booking_policy import booking_policy_update
from scheduling.services.schedule_exceptions import (
    schedule_exception_create,
    schedule_exception_delete,
)
from scheduling.services.schedule_rules import (
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
)
from scheduling.views.pick import clinic_choice_page

WEEKDAYS = [(int(day.value), day.label) for day in Weekday]


def _today(clinic: Clinic) -> datetime.date:
    return timezone.now().astimezone(clinic.tz).date()


def _form_error(form: Any, exc: BookingError) -> None:
    """A service's refusal on the field it names, else above the form."""
    field = exc.params.get("field")
    form.add_error(field if field in form.fields else None, str(exc))


def _clinic_context(request: HttpRequest, clinic: Clinic, section: str) -> dict[str, Any]:
    """What every schedule page shows around its content: the clinic, its zone, the tabs."""
    return {
        "clinic": clinic,
        "clinics": schedule_clinics(request.user),
        "zone": clinic.timezone,
        "utc_offset": utc_offset_label(clinic),
        "section": section,
        "can_edit_policy": permissions.has_capability(request.user, "catalogue.manage", clinic),
    }


def _grid_url(clinic: Clinic) -> str:
    return reverse("scheduling:schedule_grid", args=[clinic.public_id])


# --- The grid and its rules --------------------------------------------------------------------


@login_required
@require_GET
def schedule_home(request: HttpRequest) -> HttpResponse:
    """The clinic's grid straight away for staff of one clinic; a choice for the others."""
    if not permissions.has_capability(request.user, "schedule.manage"):
        raise PermissionDenied
    asked = request.GET.get("clinic")
    if asked:
        return redirect(_grid_url(get_schedule_clinic(request.user, asked)))
    clinics = schedule_clinics(request.user)
    if len(clinics) == 1:
        return redirect(_grid_url(clinics[0]))
    return clinic_choice_page(
        request,
        clinics,
        heading=_("Schedules"),
        lead=_(
            "Choose the clinic whose weekly hours, absences and booking policy you want to edit."
        ),
    )


@login_required
@require_GET
@never_cache
def grid(request: HttpRequest, clinic: object) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    context = _clinic_context(request, place, "rules")
    context["grid"] = schedule_grid(clinic=place, today=_today(place))
    return render(request, "scheduling/schedule/grid.html", context)


def _rule_form(request: HttpRequest, clinic: Clinic, rule: ScheduleRule | None):
    if rule is None:
        initial = {
            "doctor": request.GET.get("doctor", ""),
            "weekday": request.GET.get("weekday", ""),
            "valid_from": _today(clinic),
            "start_time": "09:00",
            "end_time": "18:00",
        }
    else:
        initial = {
            "weekday": rule.weekday,
            "start_time": rule.start_time,
            "end_time": rule.end_time,
            "breaks": breaks_text(rule.breaks),
            "slot_step_minutes": rule.slot_step_minutes,
            "buffer_minutes": rule.buffer_minutes,
            "room": str(rule.room.public_id) if rule.room else "",
            "valid_from": rule.valid_from,
            "valid_until": rule.valid_until,
        }
    return ScheduleRuleForm(
        request.POST or None,
        initial=initial,
        doctors=clinic_doctors(clinic),
        rooms=clinic_rooms(clinic),
        weekdays=WEEKDAYS,
        fixed_doctor=rule.doctor if rule else None,
    )


def _save_rule(request: HttpRequest, clinic: Clinic, rule: ScheduleRule | None, form) -> bool:
    data = form.cleaned_data
    values = {
        "weekday": data["weekday"],
        "start_time": data["start_time"],
        "end_time": data["end_time"],
        "breaks": data["breaks"],
        "slot_step_minutes": data["slot_step_minutes"],
        "buffer_minutes": data["buffer_minutes"],
        "room": data["room"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
    }
    try:
        if rule is None:
            # The doctor field offers only this clinic's doctors, so a valid form names one.
            schedule_rule_create(clinic=clinic, doctor=data["doctor"], actor=request.user, **values)
        else:
            schedule_rule_update(rule=rule, actor=request.user, **values)
    except BookingError as exc:
        _form_error(form, exc)
        return False
    return True


def _rule_page(request: HtmxRequest, clinic: object, pk: int | None) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    rule = get_clinic_rule(place, pk) if pk is not None else None
    form = _rule_form(request, place, rule)
    if form.is_bound and form.is_valid() and _save_rule(request, place, rule, form):
        messages.success(request, _("The schedule is saved. Free times follow it at once."))
        return redirect(_grid_url(place))
    context = _clinic_context(request, place, "rules")
    context.update({"form": form, "rule": rule, "grid_url": _grid_url(place)})
    if request.htmx and not form.is_bound:
        return render(request, "scheduling/htmx/rule_form.html", context)
    return render(request, "scheduling/schedule/rule.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HtmxRequest, clinic: object) -> HttpResponse:
    return _rule_page(request, clinic, None)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HtmxRequest, clinic: object, pk: int) -> HttpResponse:
    return _rule_page(request, clinic, pk)


@login_required
@require_POST
def rule_delete(request: HttpRequest, clinic: object, pk: int) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    rule = get_clinic_rule(place, pk)
    schedule_rule_delete(rule=rule, actor=request.user)
    messages.success(request, _("The rule is removed. Visits already booked stay booked."))
    return redirect(_grid_url(place))


# --- Exceptions --------------------------------------------------------------------------------


def _exceptions_url(clinic: Clinic) -> str:
    return reverse("scheduling:schedule_exceptions", args=[clinic.public_id])


def _exception_form(request: HttpRequest, clinic: Clinic, data=None) -> ScheduleExceptionForm:
    return ScheduleExceptionForm(
        data,
        initial={"date_from": _today(clinic), "date_to": _today(clinic)},
        doctors=clinic_doctors(clinic),
        kinds=ExceptionKind.choices,
    )


def _hits_of(clinic: Clinic, form: ScheduleExceptionForm) -> list:
    """The booked visits the form's absence covers (none for extra hours or bad input)."""
    data = form.cleaned_data
    if data.get("kind") not in ABSENCE_KINDS or data.get("doctor") is None:
        return []
    first, last = data.get("date_from"), data.get("date_to")
    if first is None or last is None or last < first:
        return []
    return absence_hits(
        clinic=clinic,
        doctor=data["doctor"],
        date_from=first,
        date_to=min(last, first + datetime.timedelta(days=366)),
        start_time=data.get("start_time"),
        end_time=data.get("end_time"),
    )


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def exceptions(request: HttpRequest, clinic: object) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    form = _exception_form(request, place, request.POST or None)
    hits: list = []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        hits = _hits_of(place, form)
        if not hits or data["confirm"]:
            try:
                _exception, tasks = schedule_exception_create(
                    clinic=place,
                    doctor=data["doctor"],
                    actor=request.user,
                    kind=data["kind"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    note=data["note"],
                    today=_today(place),
                )
            except BookingError as exc:
                _form_error(form, exc)
            else:
                message = _("The exception is saved. Free times follow it at once.")
                if tasks:
                    message += " " + ngettext(
                        "%(count)d booked visit is handed to the desk to rebook.",
                        "%(count)d booked visits are handed to the desk to rebook.",
                        len(tasks),
                    ) % {"count": len(tasks)}
                messages.success(request, message)
                return redirect(_exceptions_url(place))
    context = _clinic_context(request, place, "exceptions")
    context.update(
        {
            "form": form,
            "hits": hits,
            "confirming": bool(hits) and not form.errors,
            "exceptions": clinic_exceptions(clinic=place, today=_today(place)),
            "preview_url": reverse("scheduling:schedule_exception_preview", args=[place.public_id]),
        }
    )
    return render(request, "scheduling/schedule/exceptions.html", context)


@login_required
@require_GET
@never_cache
def exception_preview(request: HttpRequest, clinic: object) -> HttpResponse:
    """The booked visits an absence being typed would hit (htmx, on each change of the form)."""
    place = get_schedule_clinic(request.user, clinic)
    form = _exception_form(request, place, request.GET)
    valid = form.is_valid()  # an invalid form still has the fields it could read
    return render(
        request,
        "scheduling/htmx/absence_hits.html",
        {"hits": _hits_of(place, form), "clinic": place, "checked": valid},
    )


@login_required
@require_POST
def exception_delete(request: HttpRequest, clinic: object, pk: int) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    exception = get_clinic_exception(place, pk)
    try:
        schedule_exception_delete(exception=exception, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The exception is removed: the weekly hours apply again."))
    return redirect(_exceptions_url(place))


# --- Booking policy ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def policy(request: HttpRequest, clinic: object) -> HttpResponse:
    place = get_schedule_clinic(request.user, clinic)
    can_edit = permissions.has_capability(request.user, "catalogue.manage", place)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    current = clinic_policy(place)
    services = Service.objects.filter(is_active=True).order_by("name")
    form = BookingPolicyForm(
        request.POST or None,
        instance=current,
        services=services,
        initial={"prepaid_services": list(current.prepaid_services.all()) if current.pk else []},
    )
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    if form.is_bound and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        prepaid = values.pop("prepaid_services")
        try:
            _policy, changed = booking_policy_update(
                clinic=place, actor=request.user, values=values, prepaid_services=prepaid
            )
        except BookingError as exc:
            _form_error(form, exc)
        else:
            if changed:
                messages.success(request, _("The booking policy is saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect(reverse("scheduling:schedule_policy", args=[place.public_id]))
    context = _clinic_context(request, place, "policy")
    context.update({"form": form, "can_edit": can_edit})
    return render(request, "scheduling/schedule/policy.html", context)
