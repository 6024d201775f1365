"""Booking a picked time: a hold keeps it while the patient signs in and confirms.

The hold's public id goes into the browser's session; only that session (or, once signed in,
that login) can confirm it. A second confirm of the same hold (a double click, the back
button) shows the visit already booked instead of an error.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from portal.auth.adapter import needs_onboarding
from portal.models import Clinic, User
from scheduling.choices import AppointmentChannel
from scheduling.errors import BookingError, HoldInvalid, InvalidInput, PromotionInvalid
from scheduling.models import Doctor, Hold, Service
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.payments import requires_prepayment
from scheduling.selectors.policy import policy_for
from scheduling.selectors.pricing import clinic_today, price_quote
from scheduling.services.booking import appointment_book
from scheduling.services.holds import hold_claim, hold_create, hold_release
from scheduling.slot_ids import parse_slot_id

# The holds this browser made, oldest first: public id -> the week picker it was picked from.
SESSION_HOLDS = "booking_holds"
SESSION_BOOKED = "booking_done"  # hold public id -> the appointment it became
KEPT_HOLDS = 5
PROMO_CODE_MAX = 30  # Promotion.code's length


def doctor_page_url(doctor: Doctor, service: Service, day: object = None) -> str:
    """The doctor's week picker for `service`, from `day` (a date) when given."""
    query = {"service": str(service.public_id)}
    if day is not None:
        query["from"] = str(day)
    return f"{reverse('scheduling:doctor', args=[doctor.public_id])}?{urlencode(query)}"


def _session_holds(request: HttpRequest) -> dict[str, str]:
    return dict(request.session.get(SESSION_HOLDS, {}))


@require_POST
def hold(request: HttpRequest) -> HttpResponse:
    """Keep the picked time for a few minutes and go on to the confirmation."""
    try:
        ref = parse_slot_id(request.POST.get("slot", ""))
    except InvalidInput:
        messages.error(request, _("This time could not be found. Please pick it again."))
        return redirect("scheduling:find_care")
    service = get_by_public_id(Service.objects.filter(is_active=True), ref.service_public_id)
    doctor = get_by_public_id(Doctor.objects.filter(is_active=True), ref.doctor_public_id)
    clinic = get_by_public_id(Clinic.objects.filter(is_active=True), ref.clinic_public_id)
    back = doctor_page_url(doctor, service, ref.start.astimezone(clinic.tz).date())
    if not request.user.is_authenticated:
        # One held time per visitor, as the engine keeps one per login.
        for earlier in Hold.objects.filter(public_id__in=list(_session_holds(request))):
            hold_release(hold=earlier, actor=request.user)
    try:
        held = hold_create(
            doctor=doctor,
            service=service,
            start=ref.start,
            clinic=clinic,
            channel=AppointmentChannel.ONLINE,
            actor=request.user,
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    kept = {**_session_holds(request), str(held.public_id): back}
    request.session[SESSION_HOLDS] = dict(list(kept.items())[-KEPT_HOLDS:])
    return redirect("scheduling:confirm", held.public_id)


def _own_hold(request: HttpRequest, public_id: uuid.UUID) -> Hold | None:
    """The unexpired hold if this browser made it or this login owns it."""
    found = (
        Hold.objects.select_related("doctor", "service", "clinic")
        .filter(public_id=public_id, expires_at__gt=timezone.now())
        .first()
    )
    if found is None:
        return None
    if found.created_by_id == request.user.pk or str(found.public_id) in _session_holds(request):
        return found
    return None


def _not_a_patient(request: HttpRequest) -> HttpResponseRedirect:
    if needs_onboarding(request.user):
        url = reverse("portal:onboarding")
        return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
    messages.error(request, _("Staff accounts book visits at the desk, not in the patient portal."))
    return redirect("portal:home")


@login_required
def confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Whom the visit is for and the last look before booking."""
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors to sign in
        raise PermissionDenied
    if not permissions.is_patient(user):
        return _not_a_patient(request)
    done = request.session.get(SESSION_BOOKED, {}).get(str(public_id))
    if done:
        messages.info(request, _("This visit is booked already."))
        return redirect("scheduling:visit", done)
    held = _own_hold(request, public_id)
    if held is None:
        # Expired or gone: fresh times of the same doctor, if this browser picked it.
        messages.error(request, str(HoldInvalid.default_message))
        return redirect(_session_holds(request).get(str(public_id)) or "scheduling:find_care")
    hold_claim(hold=held, actor=user)
    people = list(permissions.patients_managed_by(user).order_by("pk"))
    me = user.patient
    people.sort(key=lambda person: person.pk != me.pk)
    back = doctor_page_url(
        held.doctor, held.service, held.starts_at.astimezone(held.clinic.tz).date()
    )
    chosen = next((p for p in people if str(p.public_id) == request.POST.get("patient")), me)
    promo_code = request.POST.get("promo_code", "")[:PROMO_CODE_MAX].strip()
    promo_error = ""
    try:
        quote = price_quote(
            clinic=held.clinic,
            service=held.service,
            patient=chosen,
            day=clinic_today(held.clinic),
            code=promo_code,
        )
    except PromotionInvalid as exc:
        promo_error = str(exc.message)
        quote = price_quote(
            clinic=held.clinic, service=held.service, patient=chosen, day=clinic_today(held.clinic)
        )
    if request.method == "POST" and "apply_code" not in request.POST and not promo_error:
        try:
            appointment = appointment_book(
                patient=chosen,
                doctor=held.doctor,
                service=held.service,
                start=held.starts_at,
                channel=AppointmentChannel.ONLINE,
                actor=user,
                hold=held,
                promo_code=promo_code,
            )
        except PromotionInvalid as exc:
            # The code was used up meanwhile: nothing is booked and the time is still held.
            promo_error = str(exc.message)
        except BookingError as exc:
            messages.error(request, str(exc.message))
            return redirect(back)
        else:
            return _booked(request, held, appointment)
    policy = policy_for(held.clinic)
    return render(
        request,
        "scheduling/confirm.html",
        {
            "hold": held,
            "people": people,
            "me": me,
            "back": back,
            "seconds_left": max(0, int((held.expires_at - timezone.now()).total_seconds())),
            "policy": policy,
            "prepaid": requires_prepayment(
                clinic=held.clinic, service=held.service, price=quote.price
            ),
            "payment_minutes": settings.PAYMENT_HOLD_MINUTES,
            "chosen": chosen,
            "quote": quote,
            "promo_code": promo_code if not promo_error else request.POST.get("promo_code", ""),
            "promo_error": promo_error,
            "promo_code_max": PROMO_CODE_MAX,
        },
    )


def _booked(request: HttpRequest, held: Hold, appointment) -> HttpResponse:
    request.session[SESSION_BOOKED] = {
        **request.session.get(SESSION_BOOKED, {}),
        str(held.public_id): str(appointment.public_id),
    }
    if appointment.payment_due_at is not None:
        messages.success(
            request,
            _("Booked and waiting for payment: pay for the visit below to confirm it."),
        )
    else:
        messages.success(request, _("Your visit is booked. We have sent a confirmation."))
    return redirect("scheduling:visit", appointment.public_id)
