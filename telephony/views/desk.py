"""Registrar pages: the caller panel (an htmx partial the desk polls), the calls page with the
callback queue, and the hand-over of a new caller's number to the registration form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from portal import permissions
from portal.prefill import new_patient_prefill_remember
from telephony.permissions import get_call_for_user, get_callback_for_user
from telephony.selectors.calls import caller_panel, calls_page
from telephony.services.calls import callback_mark_done


@require_http_methods(["GET"])
def caller_panel_partial(request):
    if not request.user.is_authenticated:
        # A poll whose session ended sends the whole page to sign in, not into the panel.
        if request.htmx:
            return HttpResponseClientRedirect(redirect_to_login(reverse("telephony:calls")).url)
        return redirect_to_login(request.get_full_path())
    panel = caller_panel(user=request.user)
    response = render(request, "telephony/htmx/caller_panel.html", {"panel": panel})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET"])
def calls(request):
    page = calls_page(user=request.user)
    return render(request, "telephony/calls.html", {"page": page})


@login_required
@require_http_methods(["POST"])
def callback_done(request, public_id):
    callback = get_callback_for_user(request.user, public_id)
    callback_mark_done(callback=callback, actor=request.user)
    messages.success(request, _("The callback is marked done."))
    return redirect("telephony:calls")


@login_required
@require_http_methods(["POST"])
def new_caller(request, public_id):
    """Open the registration form with the caller's number filled in, carried in the
    session: a phone never goes into an address."""
    call = get_call_for_user(request.user, public_id)
    permissions.require_capability(request.user, "patient.create", call.line.clinic_id)
    if call.from_number:
        new_patient_prefill_remember(request.session, phone=call.from_number)
    return redirect("portal:patient_create")
