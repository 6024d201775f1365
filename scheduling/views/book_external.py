"""Booking a time of a connector-mode clinic: the time comes from the clinic's own system and
is verified there again when the patient confirms. If that system cannot take the booking,
the patient is told plainly that it became a request the clinic will confirm."""

from __future__ import annotations

import datetime
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from portal import permissions
from portal.models import Clinic, User
from scheduling.choices import AppointmentChannel
from scheduling.errors import BookingError
from scheduling.models import Doctor, Service
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.connector_slots import connector_of
from scheduling.services.connectors import connector_book
from scheduling.views.book import doctor_page_url

EXTERNAL_ID = re.compile(r"[A-Za-z0-9\-.]{0,64}")


def external_slot_url(*, clinic, doctor, service, slot) -> str:
    query = {
        "clinic": str(clinic.public_id),
        "doctor": str(doctor.public_id),
        "service": str(service.public_id),
        "start": slot.start.isoformat(),
        "slot": slot.external_id,
    }
    return f"{reverse('scheduling:confirm_external')}?{urlencode(query)}"


def _picked(params) -> tuple[Clinic, Doctor, Service, datetime.datetime, str]:
    """The clinic, doctor, service, start and external slot id named by the link; 404 for
    anything unknown or malformed."""
    clinic = get_by_public_id(Clinic.objects.filter(is_active=True), params.get("clinic"))
    doctor = get_by_public_id(
        Doctor.objects.filter(is_active=True, clinics=clinic), params.get("doctor")
    )
    service = get_by_public_id(doctor.services.filter(is_active=True), params.get("service"))
    external_id = params.get("slot", "")
    try:
        start = datetime.datetime.fromisoformat(params.get("start", ""))
    except ValueError as exc:
        raise Http404 from exc
    if start.tzinfo is None or not EXTERNAL_ID.fullmatch(external_id):
        raise Http404
    if connector_of(clinic) is None:
        raise Http404
    return clinic, doctor, service, start, external_id


@login_required
def confirm(request: HttpRequest) -> HttpResponse:
    """GET: what is about to be booked; POST: book it (or leave a request instead)."""
    user = request.user
    if not isinstance(user, User) or not permissions.acts_as_patient(user):
        # Staff book callers from the desk; this page is the patient's own.
        raise PermissionDenied
    params = request.POST if request.method == "POST" else request.GET
    clinic, doctor, service, start, external_id = _picked(params)
    back = doctor_page_url(doctor, service, start.astimezone(clinic.tz).date())
    if request.method == "POST":
        try:
            result = connector_book(
                patient=user.patient,
                clinic=clinic,
                doctor=doctor,
                service=service,
                start=start,
                external_id=external_id,
                channel=AppointmentChannel.ONLINE,
                actor=user,
            )
        except BookingError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        if result.appointment is not None:
            messages.success(request, _("Your visit is booked."))
            return redirect("scheduling:visit", public_id=result.appointment.public_id)
        messages.warning(
            request,
            _(
                "The clinic's booking system is not answering right now, so we passed your "
                "choice to the clinic as a request. This is not a booking yet: the clinic "
                "will confirm the time and let you know."
            ),
        )
        return redirect("scheduling:visits")
    context = {
        "clinic": clinic,
        "doctor": doctor,
        "service": service,
        "start": start,
        "external_id": external_id,
        "back": back,
    }
    return render(request, "scheduling/confirm_external.html", context)
