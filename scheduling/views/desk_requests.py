"""The registrar desk's booking-request queue (request-mode clinics): the clinic's open and
proposed requests oldest first with their answer time, and one request: its preferences, the
free times to answer from, and confirm, propose or decline.

Staff act where they hold `appointment.book`; another clinic's request is a 404.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal import permissions
from portal.models import Clinic
from portal.selectors.patients import patient_card
from scheduling.errors import BookingError, InvalidInput, SlotTaken
from scheduling.models import BookingRequest, Doctor, Service
from scheduling.selectors.availability import parse_date
from scheduling.selectors.booking_requests import (
    answer_slots,
    desk_request_clinics,
    first_preferred_day,
    get_desk_request,
    request_queue,
    services_for,
)
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.connector_requests import (
    bookable_connector,
    parse_upstream_value,
    upstream_answer_times,
)
from scheduling.services.booking_requests import (
    MAX_DECLINE_REASON,
    MAX_PROPOSALS,
    Wanted,
    booking_request_confirm,
    booking_request_decline,
    booking_request_propose,
)
from scheduling.services.connector_requests import booking_request_confirm_upstream
from scheduling.slot_ids import parse_slot_id

ACTIONS = ("confirm", "propose", "decline", "confirm_upstream")


def _queue_url(clinic: Clinic) -> str:
    return f"{reverse('scheduling:desk_requests')}?{urlencode({'clinic': str(clinic.public_id)})}"


def _request_url(found: BookingRequest, **query: str) -> str:
    url = reverse("scheduling:desk_request", args=[found.public_id])
    return f"{url}?{urlencode(query)}" if query else url


@login_required
@require_GET
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    """The request queue of one clinic; staff of several request-mode clinics pick one."""
    if not permissions.has_capability(request.user, "appointment.book"):
        raise PermissionDenied
    clinics = desk_request_clinics(request.user)
    asked = request.GET.get("clinic")
    clinic = next((c for c in clinics if str(c.public_id) == asked), None)
    if asked and clinic is None:
        raise Http404
    if clinic is None and len(clinics) == 1:
        clinic = clinics[0]
    now = timezone.now()
    return render(
        request,
        "scheduling/desk/requests.html",
        {
            "clinics": clinics,
            "clinic": clinic,
            "rows": request_queue(user=request.user, clinic=clinic, now=now) if clinic else [],
            "now": now,
        },
    )


def _answer_context(request: HttpRequest, found: BookingRequest) -> dict[str, Any]:
    clinic = found.clinic
    today = timezone.now().astimezone(clinic.tz).date()
    try:
        day = parse_date(request.GET.get("date", ""))
    except InvalidInput:
        day = first_preferred_day(found, today)
    services = services_for(found)
    wanted = request.GET.get("service")
    service = next((s for s in services if str(s.public_id) == wanted), None)
    service = service or (services[0] if services else None)
    only_doctor = found.doctor is not None and request.GET.get("any_doctor") != "1"
    active = service is not None and found.status in ("open", "proposed")
    # A connector clinic has no schedule here: it answers with its external system's times.
    upstream = bookable_connector(found) is not None
    options = (
        answer_slots(request=found, service=service, day=day, only_doctor=only_doctor)
        if active and service is not None and not upstream
        else []
    )
    upstream_times = (
        upstream_answer_times(request=found, service=service, day=day, only_doctor=only_doctor)
        if active and upstream and service is not None
        else None
    )
    base = {"service": str(service.public_id)} if service else {}
    if not only_doctor and found.doctor is not None:
        base["any_doctor"] = "1"
    one_day = datetime.timedelta(days=1)
    return {
        "req": found,
        "clinic": clinic,
        "patient": patient_card(user=request.user, public_id=found.patient.public_id),
        "services": services,
        "service": service,
        "day": day,
        "prev_url": _request_url(found, **base, date=(day - one_day).isoformat()),
        "next_url": _request_url(found, **base, date=(day + one_day).isoformat()),
        "only_doctor": only_doctor,
        "options": options,
        "upstream": upstream,
        "upstream_times": upstream_times,
        "queue_url": _queue_url(clinic),
        "max_proposals": MAX_PROPOSALS,
        "max_reason": MAX_DECLINE_REASON,
        "minutes_left": int((found.sla_due_at - timezone.now()).total_seconds() // 60),
    }


@login_required
@require_GET
@never_cache
def detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """One request: who and what, the patient's preferences, and free times to answer with.
    Showing the patient's name and phone is a card view, audited."""
    found = get_desk_request(request.user, public_id)
    return render(request, "scheduling/desk/request.html", _answer_context(request, found))


def _wanted(request: HttpRequest, found: BookingRequest) -> list[Wanted]:
    """The times ticked on the form, each in the request's clinic; `InvalidInput` for a bad id."""
    picked = []
    for raw in request.POST.getlist("slot"):
        ref = parse_slot_id(raw)
        if ref.clinic_public_id != found.clinic.public_id:
            raise InvalidInput(_("Choose a time in the request's clinic."), code="other_clinic")
        try:
            doctor = get_by_public_id(Doctor.objects.filter(is_active=True), ref.doctor_public_id)
            service = get_by_public_id(
                Service.objects.filter(is_active=True), ref.service_public_id
            )
        except Http404 as exc:
            raise InvalidInput(code="invalid_slot_id") from exc
        picked.append(Wanted(doctor, service, ref.start))
    return picked


def _confirm_upstream(request: HttpRequest, found: BookingRequest) -> str:
    """Book the chosen time of the connector clinic's system and confirm the request."""
    picked = parse_upstream_value(request.POST.get("upstream", ""))
    service_id = request.POST.get("service", "")
    service = (
        Service.objects.filter(is_active=True, public_id=service_id).first()
        if _is_uuid(service_id)
        else None
    )
    if picked is None or service is None:
        raise InvalidInput(_("Choose one time of the clinic's system."), code="invalid_slot_id")
    doctor_id, start, external_id = picked
    doctor = Doctor.objects.filter(is_active=True, public_id=doctor_id).first()
    if doctor is None:
        raise InvalidInput(_("Choose one time of the clinic's system."), code="invalid_slot_id")
    booking_request_confirm_upstream(
        request=found,
        doctor=doctor,
        service=service,
        start=start,
        external_id=external_id,
        actor=request.user,
    )
    return _("Booked in the clinic's system and confirmed; the patient is told.")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _run(request: HttpRequest, found: BookingRequest, action: str) -> str:
    """Do `action`; the message to show."""
    if action == "confirm_upstream":
        return _confirm_upstream(request, found)
    if action == "decline":
        booking_request_decline(
            request=found, reason=request.POST.get("reason", ""), actor=request.user
        )
        return _("The request is declined; the patient is told why.")
    picked = _wanted(request, found)
    if action == "propose":
        booking_request_propose(request=found, slots=picked, actor=request.user)
        return _("The times are proposed; the patient chooses one in their account.")
    if len(picked) != 1:
        raise InvalidInput(_("Tick exactly one time to confirm."), code="one_slot")
    (wanted,) = picked
    booking_request_confirm(
        request=found,
        doctor=wanted.doctor,
        service=wanted.service,
        start=wanted.start,
        actor=request.user,
        bookable_clinic_ids=permissions.clinic_ids_with(request.user, "appointment.book"),
    )
    return _("Booked and confirmed; the patient is told.")


@login_required
@require_POST
def act(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    """Confirm one ticked time, propose one to three, or decline with a reason."""
    if action not in ACTIONS:
        raise Http404
    found = get_desk_request(request.user, public_id)
    permissions.require_capability(request.user, "appointment.book", found.clinic)
    try:
        done = _run(request, found, action)
    except SlotTaken as exc:
        messages.error(
            request,
            _("%(error)s The request is still open: choose another time.") % {"error": exc.message},
        )
        return redirect(_request_url(found, **_kept(request)))
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect(_request_url(found, **_kept(request)))
    messages.success(request, done)
    return redirect(_queue_url(found.clinic))


def _kept(request: HttpRequest) -> dict[str, str]:
    """The day and service the form was on, to show them again after a refusal."""
    return {k: request.POST[k] for k in ("date", "service", "any_doctor") if request.POST.get(k)}
