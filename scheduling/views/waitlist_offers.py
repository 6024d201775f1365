"""Offers of freed slots to the waitlist: the patient's accept/decline page behind the link in
the message, and the staff page of a clinic's cancellations, leaderboard and live offers."""

from __future__ import annotations

import math
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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import permissions
from portal.models import Clinic
from scheduling.choices import WaitlistOfferStatus
from scheduling.errors import BookingError
from scheduling.forms.waitlist_desk import (
    DeskWaitlistJoinForm,
    WaitlistAssignForm,
    WaitlistPriorityForm,
)
from scheduling.models.waitlist import MAX_BOOST
from scheduling.selectors import waitlist_offers as selectors
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.services.waitlist import waitlist_join
from scheduling.services.waitlist_offers import (
    freed_slot_assign,
    waitlist_entry_prioritise,
    waitlist_offer_answer,
)
from scheduling.views.pick import clinic_choice_page
from scheduling.views.waitlist import desk_join_initial

POLL_SECONDS = 5
OS = WaitlistOfferStatus
OUTCOMES: dict[str, str] = {
    OS.ACCEPTED: "success",
    OS.DECLINED: "info",
    OS.TAKEN: "warning",
    OS.EXPIRED: "warning",
    OS.CANCELLED: "error",
}


def _outcome_text(status: str) -> str:
    texts: dict[str, str] = {
        OS.ACCEPTED: _("Done: the time is yours. The confirmation is on its way."),
        OS.DECLINED: _("You have declined this time. You stay on the waiting list."),
        OS.TAKEN: _("Sorry, someone else took this time first. You stay on the waiting list."),
        OS.EXPIRED: _("This offer has run out. You stay on the waiting list."),
        OS.CANCELLED: _("We could not book this time for you. Please call the clinic."),
    }
    return texts[status]


# --- The patient's page --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the offer message: its token is the credential, so it works without signing
    in; a signed-in user who may not act for its patient gets 404. POST `answer=yes|no`."""
    item = selectors.offer_for_visitor(request.user, token)
    if request.method == "POST":
        answer = request.POST.get("answer")
        if answer not in ("yes", "no"):
            messages.error(request, _("Choose whether you take this time."))
        else:
            actor = request.user if request.user.is_authenticated else None
            item = waitlist_offer_answer(
                offer=item, accept=answer == "yes", actor=actor, channel="web"
            )
            getattr(messages, OUTCOMES[item.status])(request, _outcome_text(item.status))
            return redirect("scheduling:waitlist_offer", token=token)
    slot = item.slot
    open_ = item.status == OS.OFFERED and item.expires_at > timezone.now()
    return render(
        request,
        "scheduling/waitlist_offer.html",
        {
            "offer": item,
            "slot": slot,
            "is_open": open_,
            "minutes_left": math.ceil(
                max((item.expires_at - timezone.now()).total_seconds(), 0) / 60
            ),
        },
    )


# --- The staff page ------------------------------------------------------------------------------


def _page_context(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    """Shared by the page and its polled partial."""
    permissions.require_capability(request.user, selectors.STAFF_CAPABILITY, clinic)
    now = timezone.now()
    return {
        "clinic": clinic,
        "now": now,
        "slots": selectors.live_slots(clinic=clinic, now=now),
        "leaders": selectors.leaderboard(clinic=clinic, now=now),
        "stats": selectors.slot_stats(clinic=clinic, now=now),
        "poll_seconds": POLL_SECONDS,
        "query": urlencode({"clinic": str(clinic.public_id)}),
        "max_boost": MAX_BOOST,
    }


def _require_staff(request: HttpRequest) -> None:
    if not permissions.has_capability(request.user, selectors.STAFF_CAPABILITY):
        raise PermissionDenied


@login_required
@require_GET
@never_cache
def staff_page(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    clinic, clinics = selectors.pick_waitlist_clinic(request.user, request.GET.get("clinic"))
    if clinic is None:
        return clinic_choice_page(
            request,
            clinics,
            heading=_("Waiting list"),
            lead=_("Choose the clinic whose waiting list you want to see."),
        )
    context = _page_context(request, clinic)
    context["clinics"] = clinics
    return render(request, "scheduling/desk/waitlist.html", context)


@login_required
@require_GET
@never_cache
def staff_live(request: HttpRequest) -> HttpResponse:
    """The page's live part, polled by htmx."""
    _require_staff(request)
    clinic, _clinics = selectors.pick_waitlist_clinic(request.user, request.GET.get("clinic"))
    if clinic is None:
        raise Http404
    return render(
        request, "scheduling/desk/htmx/waitlist_live.html", _page_context(request, clinic)
    )


def _back(clinic: Clinic) -> HttpResponse:
    return redirect(
        reverse("scheduling:desk_waitlist") + "?" + urlencode({"clinic": str(clinic.public_id)})
    )


def _clinic_from_post(request: HttpRequest) -> Clinic:
    _require_staff(request)
    clinic = get_by_public_id(selectors.waitlist_clinics(request.user), request.POST.get("clinic"))
    return clinic


@login_required
@require_POST
def entry_priority(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Set a waiting patient's urgent flag and manual boost."""
    clinic = _clinic_from_post(request)
    entry = selectors.get_entry_for_staff(request.user, clinic=clinic, public_id=public_id)
    form = WaitlistPriorityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The boost is a whole number from 0 to 40."))
        return _back(clinic)
    try:
        waitlist_entry_prioritise(
            entry=entry,
            urgent=form.cleaned_data["urgent"],
            boost=form.cleaned_data["boost"],
            actor=request.user,
        )
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("Priority of %(name)s saved.") % {"name": entry.patient.short_name}
        )
    return _back(clinic)


@login_required
@require_POST
def slot_assign(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Give a freed slot to the chosen waiting patient (booked at once)."""
    _require_staff(request)
    slot = selectors.get_slot_for_staff(request.user, public_id)
    form = WaitlistAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a waiting patient."))
        return _back(slot.clinic)
    entry = selectors.get_entry_for_staff(
        request.user, clinic=slot.clinic, public_id=form.cleaned_data["entry"]
    )
    try:
        freed_slot_assign(slot=slot, entry=entry, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The time is booked for %(name)s.") % {"name": entry.patient.short_name}
        )
    return _back(slot.clinic)


@login_required
@require_http_methods(["GET", "POST"])
def desk_join(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The registrar puts the patient (from their card) on the waiting list of one of the
    clinics whose waitlist they run."""
    _require_staff(request)
    patient = permissions.get_patient_for_staff(request.user, public_id)
    clinics = list(selectors.waitlist_clinics(request.user))
    form = DeskWaitlistJoinForm(
        request.POST or None,
        clinics=clinics,
        services=selectors.joinable_services(clinics),
        specialties=selectors.joinable_specialties(clinics),
        doctors=selectors.joinable_doctors(clinics),
        initial=desk_join_initial(clinics),
    )
    if request.method == "POST" and form.is_valid():
        values = form.entry_values()
        try:
            waitlist_join(patient=patient, actor=request.user, **values)
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("%(name)s is on the waiting list.") % {"name": patient.short_name},
            )
            return _back(values["clinic"] or clinics[0])
    return render(request, "scheduling/desk/waitlist_join.html", {"form": form, "patient": patient})
