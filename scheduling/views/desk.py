"""The registrar desk: the day board of a clinic, booking a phone call or a walk-in from a free
slot, and the desk's actions on one appointment (confirm, check in, no-show, complete, cancel,
move, and the red button that undoes a wrong booking or move).

Views stay thin: they check the capability in the clinic concerned, call one selector or
service and render. Every change is a POST with CSRF; a repeated POST (a double click, the
back button) finds its work done and says so instead of failing.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import permissions
from portal.forms.staff_patients import PatientSearchForm
from portal.models import Clinic, Patient
from portal.panels import DESK, panels_for
from portal.selectors.patients import patient_card, patient_search
from portal.throttling import patient_search_wait
from portal.types import HtmxRequest
from scheduling.choices import (
    UPCOMING_STATUSES,
    AppointmentChannel,
    AppointmentEventKind,
)
from scheduling.choices import AppointmentStatus as S
from scheduling.errors import BookingError, InvalidInput, PromotionInvalid, SlotTaken
from scheduling.models import Appointment, Doctor, Service
from scheduling.permissions import patient_for_booking
from scheduling.selectors.availability import free_slots
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.connector_slots import external_booking_of
from scheduling.selectors.day_board import ServiceChoice, day_board, day_board_version
from scheduling.selectors.day_board_cache import (
    BoardKey,
    BoardSummary,
    CachedBoard,
    cached_board,
    keep_board,
)
from scheduling.selectors.desk import (
    ACTION_RESULTS,
    ACTIONS,
    appointment_panel,
    get_desk_appointment,
    move_choices,
    pick_clinic,
)
from scheduling.selectors.pricing import clinic_today, price_on
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_rollback,
)
from scheduling.services.booking.guards import MAX_REASON_LENGTH
from scheduling.slot_ids import SlotRef, parse_slot_id
from scheduling.views import move_external
from scheduling.views.dates import asked_day
from scheduling.views.pick import clinic_choice_page

POLL_SECONDS = 5
# The channels a registrar books through: the caller on the phone, or the person at the desk.
DESK_CHANNELS = (AppointmentChannel.PHONE, AppointmentChannel.WALK_IN)
PROMO_CODE_MAX = 30  # Promotion.code's length


# --- The board -----------------------------------------------------------------------------------


def _uuid_param(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _day_param(request: HttpRequest, value: str | None, clinic: Clinic) -> datetime.date:
    """The asked local date, or today in the clinic's zone when absent, not a date or beyond
    the calendar."""
    return asked_day(request, value, today=timezone.now().astimezone(clinic.tz).date())


@dataclass(frozen=True)
class BoardFilters:
    """What the board is narrowed to, kept by every link and poll of the board."""

    doctor: uuid.UUID | None = None
    service: uuid.UUID | None = None
    patient: uuid.UUID | None = None
    released: bool = False


def _board_query(
    *, clinic: Clinic, day: datetime.date, filters: BoardFilters = BoardFilters()
) -> str:
    query: dict[str, str] = {"clinic": str(clinic.public_id), "date": day.isoformat()}
    if filters.doctor:
        query["doctor"] = str(filters.doctor)
    if filters.service:
        query["service"] = str(filters.service)
    if filters.patient:
        query["patient"] = str(filters.patient)
    if filters.released:
        query["released"] = "1"
    return urlencode(query)


def _board_context(
    request: HttpRequest, clinic: Clinic, *, version: str | None = None
) -> dict[str, Any]:
    """Shared by the page and its polled partial: the board's grid (rendered, or kept in the
    cache under the board's version) and the links around it."""
    permissions.require_capability(request.user, "schedule.view", clinic)
    day = _day_param(request, request.GET.get("date"), clinic)
    doctor = _uuid_param(request.GET.get("doctor"))
    service = _uuid_param(request.GET.get("service"))
    patient = _uuid_param(request.GET.get("patient"))
    released = request.GET.get("released") == "1"
    now = timezone.now()
    # Read before the board: a change landing in between makes the next version differ, so a
    # grid newer than its key is at worst rendered again, never kept past its change.
    if version is None:
        version = day_board_version(clinic=clinic, day=day, now=now)
    can_book = permissions.has_capability(request.user, "appointment.book", clinic)
    # Who may not open patients' cards (a director) sees the load, not who comes: chips
    # without names or links.
    can_open = permissions.has_capability(request.user, "patient.view_card", clinic)
    key = BoardKey(
        clinic_id=clinic.pk,
        day=day,
        doctor=doctor,
        service=service,
        patient=patient,
        released=released,
        language=get_language(),
        can_book=can_book,
        can_open=can_open,
        version=version,
    )
    today = now.astimezone(clinic.tz).date()
    context: dict[str, Any] = {
        "clinic": clinic,
        "day": day,
        "today": today,
        "now_local": now.astimezone(clinic.tz),
        "doctor_id": doctor,
        "patient_id": patient,
        "version": version,
        "poll_seconds": POLL_SECONDS,
        "can_book": can_book,
        "can_open": can_open,
    }
    kept = cached_board(key)
    if kept is None:
        board = day_board(
            clinic=clinic,
            day=day,
            doctor_public_id=doctor,
            service_public_id=service,
            show_released=released,
            now=now,
        )
        context.update(_board_links(clinic, day, today, board.service, doctor, patient, released))
        # Rendered without the request: no CSRF token or other per-session value gets in.
        grid = render_to_string("scheduling/desk/htmx/board.html", {**context, "board": board})
        kept = CachedBoard(summary=BoardSummary.of(board), grid=mark_safe(grid))  # noqa: S308
        keep_board(key, kept)
    else:
        shown = kept.summary.service
        context.update(_board_links(clinic, day, today, shown, doctor, patient, released))
    context["board"] = kept.summary
    context["grid"] = kept.grid
    context["statuses"] = _legend(kept.summary)
    return context


def _board_links(
    clinic: Clinic,
    day: datetime.date,
    today: datetime.date,
    shown: Service | ServiceChoice | None,
    doctor: uuid.UUID | None,
    patient: uuid.UUID | None,
    released: bool,
) -> dict[str, str]:
    """The board's links; they keep the service shown, so that polls and day links keep it
    even when it was the default."""
    keep = BoardFilters(
        doctor=doctor,
        service=shown.public_id if shown else None,
        patient=patient,
        released=released,
    )
    one_day = datetime.timedelta(days=1)
    return {
        "query": _board_query(clinic=clinic, day=day, filters=keep),
        "prev_query": _board_query(clinic=clinic, day=day - one_day, filters=keep),
        "next_query": _board_query(clinic=clinic, day=day + one_day, filters=keep),
        "today_query": _board_query(clinic=clinic, day=today, filters=keep),
        "no_patient_query": _board_query(
            clinic=clinic, day=day, filters=replace(keep, patient=None)
        ),
        # A doctor picked from the board shows that doctor's own first service.
        "doctor_base_query": _board_query(
            clinic=clinic, day=day, filters=BoardFilters(patient=patient)
        ),
        "released_query": _board_query(
            clinic=clinic, day=day, filters=replace(keep, released=not released)
        ),
    }


def _legend(board: BoardSummary) -> list[tuple[str, str, int]]:
    """The colours' legend with the day's count of each status."""
    shown = [S.BOOKED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW, S.CANCELLED]
    return [(str(s.value), str(s.label), board.status_counts.get(s.value, 0)) for s in shown]


@login_required
@require_GET
@never_cache
def board(request: HtmxRequest) -> HttpResponse:
    """The day board; network-wide staff and staff of several clinics pick a clinic first."""
    if not permissions.has_capability(request.user, "schedule.view"):
        raise PermissionDenied
    clinic, clinics = pick_clinic(request.user, request.GET.get("clinic"))
    if clinic is None:
        return clinic_choice_page(
            request,
            clinics,
            heading=_("Day board"),
            lead=_("Choose the clinic whose day you want to see."),
        )
    context = _board_context(request, clinic)
    context["clinics"] = clinics
    # Parts other apps add beside the board (the caller-ID panel, queues) without the booking
    # engine importing them.
    context["panels"] = panels_for(DESK, request, clinic=clinic)
    patient_id = context["patient_id"]
    if patient_id is not None:
        # Booking for a patient chosen on their card: their name is shown, so it is a card view.
        try:
            context["patient"] = patient_card(user=request.user, public_id=patient_id)
        except Http404:
            context["patient_id"] = None
    return render(request, "scheduling/desk/board.html", context)


@login_required
@require_GET
@never_cache
def board_poll(request: HtmxRequest) -> HttpResponse:
    """The board's partial for htmx polling: 204 (nothing swapped) while nothing changed."""
    if not permissions.has_capability(request.user, "schedule.view"):
        raise PermissionDenied
    clinic, _clinics = pick_clinic(request.user, request.GET.get("clinic"))
    if clinic is None:
        raise Http404
    permissions.require_capability(request.user, "schedule.view", clinic)
    day = _day_param(request, request.GET.get("date"), clinic)
    seen = request.GET.get("v", "")
    version = day_board_version(clinic=clinic, day=day, now=timezone.now())
    if seen and seen == version:
        return HttpResponse(status=204)
    return HttpResponse(_board_context(request, clinic, version=version)["grid"])


# --- Booking from a free slot ------------------------------------------------------------


def _slot_from(request: HttpRequest) -> tuple[SlotRef, Doctor, Service, Clinic]:
    """The slot named in the request, its doctor, service and clinic; 404 for a bad id, 403
    when the user may not book in that clinic."""
    raw = request.POST.get("slot") or request.GET.get("slot") or ""
    try:
        ref = parse_slot_id(raw)
    except InvalidInput as exc:
        raise Http404 from exc
    clinic = get_by_public_id(Clinic.objects.filter(is_active=True), ref.clinic_public_id)
    permissions.require_capability(request.user, "appointment.book", clinic)
    doctor = get_by_public_id(Doctor.objects.filter(is_active=True), ref.doctor_public_id)
    service = get_by_public_id(
        Service.objects.filter(is_active=True).select_related("specialty"), ref.service_public_id
    )
    return ref, doctor, service, clinic


def _already_booked(
    request: HttpRequest, patient: Patient, doctor: Doctor, ref: SlotRef
) -> Appointment | None:
    """This desk's own booking of exactly this slot for this patient (a repeated submit)."""
    return Appointment.objects.filter(
        patient=patient,
        doctor=doctor,
        starts_at=ref.start,
        booked_by_id=request.user.pk,
        status__in=UPCOMING_STATUSES,
    ).first()


def _book_context(
    request: HttpRequest, ref: SlotRef, doctor: Doctor, service: Service, clinic: Clinic
) -> dict[str, Any]:
    start = ref.start.astimezone(clinic.tz)
    return {
        "slot_id": request.POST.get("slot") or request.GET.get("slot"),
        "doctor": doctor,
        "service": service,
        "clinic": clinic,
        "start": start,
        "end": start + datetime.timedelta(minutes=service.duration_minutes),
        "board_url": reverse("scheduling:desk")
        + "?"
        + _board_query(
            clinic=clinic,
            day=start.date(),
            filters=BoardFilters(
                service=service.public_id,
                patient=_uuid_param(request.GET.get("patient") or request.POST.get("patient")),
            ),
        ),
        "channels": [(c.value, c.label) for c in DESK_CHANNELS],
        "channel": request.POST.get("channel") or AppointmentChannel.PHONE,
        "form": PatientSearchForm(request.POST if "q" in request.POST else None),
        "can_create": permissions.has_capability(request.user, "patient.create"),
        "price_today": price_on(clinic=clinic, service=service, day=clinic_today(clinic)),
        "promo_code": request.POST.get("promo_code", "")[:PROMO_CODE_MAX],
    }


def _fresh_slots(ref: SlotRef, doctor: Doctor, service: Service, clinic: Clinic) -> list[Any]:
    """Other free times of the same doctor and service that day, after a refusal."""
    day = ref.start.astimezone(clinic.tz).date()
    return [
        slot
        for slot in free_slots(
            service=service,
            doctor=doctor,
            clinic=clinic,
            channel=AppointmentChannel.PHONE,
            start_date=day,
            end_date=day,
        )
        if slot.clinic_id == clinic.pk
    ]


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def book(request: HtmxRequest) -> HttpResponse:
    """Book a free slot for a patient by phone or walk-in.

    GET shows the slot with a one-field patient search; a POST with `q` searches (POSTed, so no
    phone or name lands in a URL); a POST with `patient` books.
    """
    ref, doctor, service, clinic = _slot_from(request)
    context = _book_context(request, ref, doctor, service, clinic)
    if request.method == "POST" and "q" in request.POST and "patient" not in request.POST:
        return _search(request, context)
    chosen_id = request.POST.get("patient") or request.GET.get("patient")
    if chosen_id:
        try:
            context["patient"] = patient_card(user=request.user, public_id=chosen_id)
        except Http404:
            context["error"] = _("This patient could not be found. Search again.")
    if request.method == "GET" or "patient" not in context:
        status = 200 if "error" not in context else 404
        return render(request, "scheduling/desk/book.html", context, status=status)
    patient = patient_for_booking(request.user, context["patient"].public_id)
    channel = request.POST.get("channel", "")
    if channel not in DESK_CHANNELS:
        context["error"] = _("Choose how the patient books: by phone or at the desk.")
        return render(request, "scheduling/desk/book.html", context, status=400)
    try:
        appointment = appointment_book(
            patient=patient,
            doctor=doctor,
            service=service,
            start=ref.start,
            channel=channel,
            clinic=clinic,
            actor=request.user,
            bookable_clinic_ids=permissions.clinic_ids_with(request.user, "appointment.book"),
            promo_code=context["promo_code"],
        )
    except PromotionInvalid as exc:
        context["error"] = str(exc.message)
        return render(request, "scheduling/desk/book.html", context, status=exc.http_status)
    except BookingError as exc:
        repeated = (
            _already_booked(request, patient, doctor, ref) if isinstance(exc, SlotTaken) else None
        )
        if repeated is not None:
            messages.info(request, _("This visit is booked already."))
            return redirect("scheduling:desk_appointment", repeated.public_id)
        context["error"] = str(exc.message)
        context["fresh_slots"] = _fresh_slots(ref, doctor, service, clinic)
        return render(request, "scheduling/desk/book.html", context, status=exc.http_status)
    messages.success(
        request,
        _("Booked: %(patient)s, %(time)s, %(doctor)s.")
        % {
            "patient": patient.short_name,
            "time": appointment.starts_at.astimezone(clinic.tz).strftime("%H:%M"),
            "doctor": doctor.full_name,
        },
    )
    return redirect(
        reverse("scheduling:desk")
        + "?"
        + _board_query(
            clinic=clinic,
            day=ref.start.astimezone(clinic.tz).date(),
            filters=BoardFilters(service=service.public_id),
        )
        + f"#appt-{appointment.public_id}"
    )


def _search(request: HtmxRequest, context: dict[str, Any]) -> HttpResponse:
    """The patient search of the booking form (the staff search's selector, throttle and audit)."""
    permissions.require_capability(request.user, "patient.search")
    form = context["form"]
    results = None
    retry_after = None
    if form.is_valid() and form.criteria():
        retry_after = patient_search_wait(request)
        if retry_after is None:
            try:
                results = patient_search(user=request.user, **form.criteria())
            except ValidationError as exc:
                form.add_error("q", [m for ms in exc.message_dict.values() for m in ms])
    context.update({"results": results, "retry_after": retry_after})
    template = (
        "scheduling/desk/htmx/patient_choices.html" if request.htmx else "scheduling/desk/book.html"
    )
    response = render(request, template, context, status=429 if retry_after else 200)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# --- One appointment ---------------------------------------------------------------------


def _appointment_url(appointment: Appointment) -> str:
    return reverse("scheduling:desk_appointment", args=[appointment.public_id])


@login_required
@require_GET
@never_cache
def appointment(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One appointment at the desk: who, when, its history and the buttons for what may be done
    now. Showing the patient's name and phone is a card view, audited."""
    found = get_desk_appointment(request.user, public_id)
    panel = appointment_panel(user=request.user, appointment=found)
    patient = patient_card(user=request.user, public_id=found.patient.public_id)
    clinic = found.clinic
    return render(
        request,
        "scheduling/desk/appointment.html",
        {
            "panel": panel,
            "appt": found,
            "patient": patient,
            "clinic": clinic,
            "max_reason": MAX_REASON_LENGTH,
            "board_url": reverse("scheduling:desk")
            + "?"
            + _board_query(clinic=clinic, day=panel.start.date()),
        },
    )


def _run(action: str, appointment: Appointment, actor: Any, reason: str) -> Appointment:
    if action == "confirm":
        return appointment_confirm(appointment=appointment, actor=actor)
    if action == "check-in":
        return appointment_check_in(appointment=appointment, actor=actor)
    if action == "no-show":
        return appointment_mark_no_show(appointment=appointment, actor=actor)
    if action == "complete":
        return appointment_complete(appointment=appointment, actor=actor)
    if action == "cancel":
        return appointment_cancel(appointment=appointment, actor=actor, reason=reason)
    return appointment_rollback(appointment=appointment, actor=actor, reason=reason)


def _done_message(action: str, appointment: Appointment) -> str:
    tz = appointment.clinic.tz
    if action == "rollback":
        if appointment.status == "rolled_back":
            return _("Undone: the booking is withdrawn and its time is free again.")
        return _("Undone: the visit is back at %(time)s with %(doctor)s (%(status)s).") % {
            "time": appointment.starts_at.astimezone(tz).strftime("%d.%m %H:%M"),
            "doctor": appointment.doctor.full_name,
            "status": appointment.get_status_display(),
        }
    return {
        "confirm": _("The visit is confirmed."),
        "check-in": _("The patient is checked in."),
        "no-show": _("Marked as a no-show."),
        "complete": _("The visit is completed."),
        "cancel": _("The visit is cancelled; its time is free again."),
    }[action]


@login_required
@require_POST
def appointment_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    """One desk action; the capability is checked in the appointment's own clinic."""
    desk_action = ACTIONS.get(action)
    if desk_action is None:
        raise Http404
    found = get_desk_appointment(request.user, public_id)
    permissions.require_capability(request.user, desk_action.capability, found.clinic)
    if _repeated(request, found, action):
        messages.info(request, _("Already done: %(what)s") % {"what": _done_message(action, found)})
        return redirect(_appointment_url(found))
    try:
        changed = _run(action, found, request.user, request.POST.get("reason", ""))
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect(_appointment_url(found))
    messages.success(request, _done_message(action, changed))
    return redirect(_appointment_url(changed))


def _repeated(request: HttpRequest, appointment: Appointment, action: str) -> bool:
    """Whether this POST repeats one already done: the status it leaves is there already, or
    (undo) the change the page showed has been undone since."""
    if action in ACTION_RESULTS:
        return appointment.status == ACTION_RESULTS[action]
    seen = request.POST.get("event", "")
    last = appointment.events.order_by("-occurred_at", "-id").first()
    return (
        last is not None
        and last.kind == AppointmentEventKind.ROLLED_BACK
        and seen.isdigit()
        and int(seen) != last.pk
    )


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def reschedule(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Move the visit to another free time of the same service in its clinic."""
    found = get_desk_appointment(request.user, public_id)
    permissions.require_capability(request.user, "appointment.manage", found.clinic)
    if external_booking_of(found) is not None:
        # Booked in the clinic's external system: moved there, with that system's times.
        return move_external.desk_move(request, found)
    clinic = found.clinic
    if request.method == "POST":
        try:
            ref = parse_slot_id(request.POST.get("slot", ""))
            if (
                ref.service_public_id != found.service.public_id
                or ref.clinic_public_id != clinic.public_id
            ):
                raise InvalidInput(code="invalid_slot_id")
            doctor = get_by_public_id(Doctor.objects.filter(is_active=True), ref.doctor_public_id)
            if doctor.pk == found.doctor_id and ref.start == found.starts_at:
                messages.info(request, _("The visit is at this time already."))
                return redirect(_appointment_url(found))
            appointment_reschedule(
                appointment=found,
                start=ref.start,
                doctor=doctor,
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except BookingError as exc:
            messages.error(request, str(exc.message))
            return redirect(reverse("scheduling:desk_reschedule", args=[found.public_id]))
        messages.success(request, _("The visit is moved; the patient is told the new time."))
        return redirect(_appointment_url(found))
    day = _day_param(request, request.GET.get("date"), clinic)
    start = found.starts_at.astimezone(clinic.tz)
    return render(
        request,
        "scheduling/desk/reschedule.html",
        {
            "appt": found,
            "start": start,
            "clinic": clinic,
            "day": day,
            "prev_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "choices": move_choices(appointment=found, day=day),
            "max_reason": MAX_REASON_LENGTH,
        },
    )
