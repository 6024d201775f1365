"""Booking requests in the patient's account: leaving one where a clinic books on request,
taking one of the times the clinic proposed, and cancelling."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import permissions
from portal.models import Clinic, User
from scheduling.choices import BookingMode, BookingRequestSource
from scheduling.errors import BookingError
from scheduling.forms.patient import BookingRequestForm
from scheduling.models import Doctor, Service, Specialty
from scheduling.selectors.booking_requests import get_request_for_patient
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.services.booking_requests import (
    booking_request_accept,
    booking_request_cancel,
    booking_request_create,
)


def _my_requests_url() -> str:
    return reverse("scheduling:visits") + "#requests"


def _asked(request: HttpRequest) -> tuple[Clinic, Doctor | None, Specialty, list[Service]]:
    """The request-mode clinic, preferred doctor, specialty and services named in the query;
    404 for anything unknown, inactive or not taking requests."""
    clinic = get_by_public_id(
        Clinic.objects.filter(is_active=True, booking_policy__mode=BookingMode.REQUEST),
        request.GET.get("clinic"),
    )
    doctor = None
    if request.GET.get("doctor"):
        doctor = get_by_public_id(
            Doctor.objects.filter(is_active=True, clinics=clinic), request.GET["doctor"]
        )
    active = Service.objects.filter(is_active=True).select_related("specialty")
    specialty: Specialty | None
    if request.GET.get("service"):
        specialty = get_by_public_id(active, request.GET["service"]).specialty
    elif request.GET.get("specialty"):
        specialty = Specialty.objects.filter(slug=request.GET["specialty"]).first()
    else:
        specialty = doctor.specialties.first() if doctor else None
    if specialty is None:
        raise Http404
    services = active.filter(specialty=specialty)
    if doctor is not None:
        services = services.filter(doctors=doctor)
    return clinic, doctor, specialty, list(services.order_by("sort_order", "name", "pk"))


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """The request form shown instead of free times where a clinic books on request."""
    user = request.user
    if not isinstance(user, User) or not permissions.is_patient(user):
        messages.info(request, _("Booking requests are for patients' own visits."))
        return redirect("portal:home")
    clinic, doctor, specialty, services = _asked(request)
    people = list(permissions.patients_managed_by(user).order_by("pk"))
    me = user.patient
    people.sort(key=lambda person: person.pk != me.pk)
    wanted = request.GET.get("service", "")
    form = BookingRequestForm(
        request.POST or None,
        people=people,
        services=services,
        initial={"patient": str(me.public_id), "service": wanted},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = next(p for p in people if str(p.public_id) == data["patient"])
        try:
            booking_request_create(
                patient=chosen,
                clinic=clinic,
                service=data["service"],
                specialty=specialty,
                doctor=doctor,
                windows=data["windows"],
                contact_channel=data["contact_channel"],
                comment=data["comment"],
                source=BookingRequestSource.PORTAL,
                actor=user,
            )
        except BookingError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request,
                _(
                    "Your request is sent. This is a request, not yet a booking: "
                    "the clinic will confirm a time and let you know."
                ),
            )
            return redirect(_my_requests_url())
    return render(
        request,
        "scheduling/request_new.html",
        {"form": form, "clinic": clinic, "doctor": doctor, "specialty": specialty},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def accept(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Take one of the times the clinic proposed: booked now, if it is still free."""
    found = get_request_for_patient(request.user, public_id)
    proposal = get_by_public_id(found.proposals.all(), request.POST.get("proposal"))
    try:
        done = booking_request_accept(request=found, proposal=proposal, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect(_my_requests_url())
    messages.success(request, _("Your visit is booked. We have sent a confirmation."))
    return redirect("scheduling:visit", done.appointment.public_id)  # type: ignore[union-attr]


@login_required
@require_POST
def cancel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = get_request_for_patient(request.user, public_id)
    try:
        booking_request_cancel(request=found, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your request is cancelled."))
    return redirect(_my_requests_url())
