"""Account pages of every login: onboarding (a new patient's profile) and Security."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.auth import phone_session
from portal.auth.adapter import needs_onboarding
from portal.auth.forms import OnboardingForm
from portal.selectors.accounts import security_overview, verified_login_email
from portal.services.accounts import AccountError, patient_onboard
from portal.services.api_tokens import api_token_revoke


def _next_or_home(request):
    """Where to go once the profile is ready: a page of this site the visitor was on their way
    to (a booking's confirmation), else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:home")


@login_required
def onboarding(request):
    """A new login without a patient card tells us who they are; staff never get here."""
    if not needs_onboarding(request.user):
        return _next_or_home(request)
    remembered = phone_session.recall(request, user=request.user)
    verified_phone = remembered[0] if remembered and remembered[1] else ""
    if request.method == "POST":
        form = OnboardingForm(request.POST)
        if form.is_valid():
            try:
                patient_onboard(
                    user=request.user,
                    email=verified_login_email(user=request.user),
                    verified_phone=verified_phone,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            except AccountError as exc:
                messages.error(request, exc.message)
                return redirect("portal:home")
            else:
                phone_session.forget(request)
                messages.success(request, _("Your profile is ready."))
                return _next_or_home(request)
    else:
        form = OnboardingForm(initial={"phone": remembered[0] if remembered else ""})
    return render(
        request,
        "portal/onboarding.html",
        {
            "form": form,
            "verified_phone": verified_phone,
            "next": request.POST.get("next") or request.GET.get("next") or "",
        },
    )


@login_required
def security(request):
    """Password, e-mail addresses, phone, two-factor authentication and the apps signed in
    through the API, in one place."""
    return render(
        request, "portal/security.html", {"overview": security_overview(user=request.user)}
    )


@require_POST
@login_required
def api_token_revoke_page(request, public_id):
    """Sign one of the login's own API devices out; anyone else's token is 404."""
    if not api_token_revoke(user=request.user, public_id=public_id):
        raise Http404
    messages.success(request, _("The app was signed out."))
    return redirect("portal:security")
