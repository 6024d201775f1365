"""The doctor's workplace: their own day or week across clinics, completing a visit, the note
for the patient, and requests for a day off or a substitution.

Every page needs the doctor's role (others: 403) and shows the doctor profile linked to the
login (a page saying so while none is linked); every visit is looked up among the doctor's own
(another doctor's: 404).
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from scheduling.choices import LeaveKind
from scheduling.errors import BookingError
from scheduling.forms.doctor import LeaveRequestForm, VisitNoteForm
from scheduling.models import Doctor
from scheduling.selectors.availability import EARLIEST_DATE, LATEST_DATE
from scheduling.selectors.doctor_day import (
    DAY,
    WEEK,
    decided_leave_requests,
    doctor_agenda,
    doctor_of,
    get_doctor_appointment,
    pending_leave_requests,
)
from scheduling.services.doctor_day import leave_request_create, visit_complete_by_doctor
from scheduling.services.documents import visit_summary_write


def _asked_day(value: str | None) -> datetime.date:
    """The day in `?date=`, or today for a missing or malformed one."""
    try:
        day = datetime.date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()
    return day if EARLIEST_DATE <= day <= LATEST_DATE else timezone.localdate()


def _day_url(day: datetime.date, mode: str = DAY) -> str:
    query = {"date": day.isoformat()} | ({"view": WEEK} if mode == WEEK else {})
    return f"{reverse('scheduling:doctor_day')}?{urlencode(query)}"


def _visit_day(appointment) -> datetime.date:
    return appointment.starts_at.astimezone(appointment.clinic.tz).date()


@login_required
@require_http_methods(["GET"])
def doctor_day(request: HttpRequest) -> HttpResponse:
    doctor = doctor_of(request.user)
    if doctor is None:
        return render(request, "scheduling/doctor/no_profile.html")
    mode = WEEK if request.GET.get("view") == WEEK else DAY
    agenda = doctor_agenda(doctor=doctor, mode=mode, day=_asked_day(request.GET.get("date")))
    return render(
        request,
        "scheduling/doctor/day.html",
        {
            "agenda": agenda,
            "day_url": _day_url(agenda.first),
            "week_url": _day_url(agenda.first, WEEK),
            "previous_url": _day_url(agenda.previous, mode),
            "next_url": _day_url(agenda.next, mode),
            "today_url": _day_url(agenda.today, mode),
        },
    )


@login_required
@require_POST
def visit_complete(request: HttpRequest, public_id: object) -> HttpResponse:
    doctor = doctor_of(request.user)
    appointment = get_doctor_appointment(doctor, public_id)
    try:
        appointment, changed = visit_complete_by_doctor(appointment=appointment, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, _("The visit is marked completed."))
        else:
            messages.info(request, _("The visit was already completed."))
    return redirect(_day_url(_visit_day(appointment)))


@login_required
@require_http_methods(["GET", "POST"])
def visit_note(request: HttpRequest, public_id: object) -> HttpResponse:
    doctor = doctor_of(request.user)
    appointment = get_doctor_appointment(doctor, public_id)
    summary = getattr(appointment, "summary", None)
    initial = (
        {"text": summary.text, "visible_to_patient": summary.visible_to_patient} if summary else {}
    )
    form = VisitNoteForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            visit_summary_write(
                appointment=appointment,
                text=form.cleaned_data["text"],
                visible_to_patient=form.cleaned_data["visible_to_patient"],
                actor=request.user,
            )
        except BookingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The note is saved."))
            return redirect(_day_url(_visit_day(appointment)))
    clinic = appointment.clinic
    return render(
        request,
        "scheduling/doctor/note.html",
        {
            "appointment": appointment,
            "form": form,
            "day_url": _day_url(_visit_day(appointment)),
            "start": appointment.starts_at.astimezone(clinic.tz),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave_request(request: HttpRequest) -> HttpResponse:
    doctor = doctor_of(request.user)
    if doctor is None:
        return render(request, "scheduling/doctor/no_profile.html")
    clinics = list(doctor.clinics.filter(is_active=True).order_by("name"))
    # Those who could stand in: a shared specialty, in one of the doctor's clinics (the form
    # checks they work in every clinic the request concerns).
    substitutes = list(
        Doctor.objects.filter(
            is_active=True, clinics__in=clinics, specialties__in=doctor.specialties.all()
        )
        .exclude(pk=doctor.pk)
        .distinct()
        .order_by("last_name", "first_name")
        .prefetch_related("clinics")
    )
    form = LeaveRequestForm(
        request.POST or None, kinds=LeaveKind.choices, clinics=clinics, substitutes=substitutes
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            leave_request_create(
                doctor=doctor,
                actor=request.user,
                kind=data["kind"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                clinic=data["clinic"],
                substitute=data["substitute"],
                note=data["note"],
            )
        except BookingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Your request is sent. The head nurse or clinic admin will decide.")
            )
            return redirect("scheduling:doctor_leave")
    return render(
        request,
        "scheduling/doctor/leave.html",
        {
            "form": form,
            "pending": pending_leave_requests(doctor),
            "decided": decided_leave_requests(doctor),
            "day_url": reverse("scheduling:doctor_day"),
        },
    )
