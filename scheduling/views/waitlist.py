"""Joining the cancellation waitlist where a day or a doctor is full, and leaving it."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from portal.models import User
from scheduling.errors import BookingError
from scheduling.forms.patient import WaitlistForm
from scheduling.models import Doctor
from scheduling.selectors import booking_pages as pages
from scheduling.selectors.availability import MAX_RANGE_DAYS
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.visits import get_waitlist_entry_for_patient
from scheduling.services.waitlist import waitlist_join, waitlist_leave

DEFAULT_DAYS = 14
# The longest wait one entry may cover (`waitlist_join`), counted from today.
MAX_JOIN_SPAN = datetime.timedelta(days=MAX_RANGE_DAYS - 1)


def parse_date_or_none(text: str | None) -> datetime.date | None:
    try:
        return parse_date(text or "")
    except ValueError:
        return None


def _join_initial(request: HttpRequest, *, people: list, me: Any) -> dict[str, Any]:
    """The form's start: the patient the link names (one the user acts for, else themselves)
    and the next two weeks, or up to the day before the visit the link came from (`before`,
    the visit an earlier time would replace; a malformed or past date is ignored)."""
    today = timezone.localdate()
    chosen = next((p for p in people if str(p.public_id) == request.GET.get("patient")), me)
    date_to = today + datetime.timedelta(days=DEFAULT_DAYS - 1)
    before = parse_date_or_none(request.GET.get("before"))
    if before is not None and before > today + datetime.timedelta(days=1):
        date_to = min(before - datetime.timedelta(days=1), today + MAX_JOIN_SPAN)
    return {"patient": str(chosen.public_id), "date_from": today, "date_to": date_to}


def desk_join_initial(clinics: list) -> dict[str, Any]:
    """The registrar's form starts at the only clinic, if one, and the next two weeks."""
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "date_from": today,
        "date_to": today + datetime.timedelta(days=DEFAULT_DAYS - 1),
    }
    if len(clinics) == 1:
        initial["clinic"] = str(clinics[0].public_id)
    return initial


@login_required
def join(request: HttpRequest) -> HttpResponse:
    """'Tell me if something frees up': a service, optionally one doctor, and dates."""
    user = request.user
    if not isinstance(user, User) or not permissions.is_patient(user):
        messages.info(request, _("The waiting list is for patients' own visits."))
        return redirect("portal:home")
    service = pages.service_by_public_id(request.GET.get("service"))
    if service is None:
        raise Http404
    doctor = None
    if request.GET.get("doctor"):
        doctor = get_by_public_id(Doctor.objects.filter(is_active=True), request.GET["doctor"])
    people = list(permissions.patients_managed_by(user).order_by("pk"))
    me = user.patient
    people.sort(key=lambda person: person.pk != me.pk)
    form = WaitlistForm(
        request.POST or None,
        people=people,
        service=service,
        cities=pages.network_cities(),
        initial=_join_initial(request, people=people, me=me),
    )
    if request.method == "POST" and form.is_valid():
        chosen = next(p for p in people if str(p.public_id) == form.cleaned_data["patient"])
        wide = form.cleaned_data["breadth"] == "specialty"
        try:
            waitlist_join(
                patient=chosen,
                service=None if wide else service,
                specialty=service.specialty if wide else None,
                city=form.cleaned_data["city"],
                doctor=doctor,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                actor=request.user,
            )
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request, _("You are on the waiting list. We will write as soon as a time frees up.")
            )
            return redirect("scheduling:visits")
    return render(
        request,
        "scheduling/waitlist_join.html",
        {"form": form, "service": service, "doctor": doctor},
    )


@login_required
@require_POST
def leave(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    entry = get_waitlist_entry_for_patient(request.user, public_id)
    try:
        waitlist_leave(entry=entry, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("You have left the waiting list."))
    return redirect("scheduling:visits")
