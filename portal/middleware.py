"""Request context for the audit trail, staff idle logout, the staff MFA requirement, and the
answers of sign-in when its shared store is down or a code limit is reached."""

from __future__ import annotations

import logging
import time
from functools import cached_property
from urllib.parse import urlencode, urlsplit

from allauth.core.exceptions import RateLimited
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages.storage import default_storage
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from redis.exceptions import RedisError

from portal import request_context
from portal.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body
from portal.auth.policy import MfaState, is_staff_login, staff_mfa_state
from portal.services.limits import StoreUnavailable

logger = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = request_context.context_from_request(request)
        request.medfront_context = ctx
        token = request_context.set_current(ctx)
        try:
            return self.get_response(request)
        finally:
            request_context.reset_current(token)


# API clients get problem+json from DRF instead of a redirect to an HTML page.
API_PREFIXES = ("/api/", "/fhir/")
# Where a down store means signing in waits (allauth's own rate limits fail there first).
SIGN_IN_PREFIXES = ("/accounts/", "/api/v1/auth/")
# Requests an htmx element makes on its own (polling a board) set this header so they do not
# keep an unattended session alive; they are still signed out once it has gone idle.
BACKGROUND_HEADER = "X-Medfront-Background"


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _return_url(request) -> str:
    """Where to come back to after signing in again or entering a code."""
    # For htmx the request path is a fragment; come back to the page that asked for it.
    if _is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.path and (not current.netloc or current.netloc == request.get_host()):
            return current.path + (f"?{current.query}" if current.query else "")
    if request.method == "GET":
        return request.get_full_path()
    return request.path


def _redirect(request, url: str, message: str):
    """A redirect (HX-Redirect for htmx) carrying a flash message.

    These middlewares run before MessageMiddleware and answer without calling it, so the
    message storage is created and written here.
    """
    response = HttpResponseClientRedirect(url) if _is_htmx(request) else HttpResponseRedirect(url)
    storage = default_storage(request)
    storage.add(messages.INFO, message)
    storage.update(response)
    return response


class StaffIdleTimeoutMiddleware:
    """Signs a staff session out after `STAFF_IDLE_TIMEOUT` without a request.

    Front-desk PCs are shared: an unattended session must not stay open for the next person.
    The last activity is kept in the session (written at most every `_granularity` seconds
    to spare session writes); patients' sessions are not touched.
    """

    SESSION_KEY = "medfront_staff_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _granularity(timeout: float) -> float:
        return min(60.0, timeout / 10)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and is_staff_login(user):
            now = time.time()
            timeout = settings.STAFF_IDLE_TIMEOUT.total_seconds()
            last_seen = request.session.get(self.SESSION_KEY)
            if isinstance(last_seen, int | float) and now - last_seen > timeout:
                return self._sign_out(request, timeout)
            background = BACKGROUND_HEADER in request.headers
            if not background and (
                not isinstance(last_seen, int | float)
                or now - last_seen >= self._granularity(timeout)
            ):
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)

    def _sign_out(self, request, timeout: float):
        next_url = _return_url(request)
        logout(request)
        if request.path.startswith(API_PREFIXES):
            # Carry on anonymously: the API answers 401 unless a token authenticates.
            return self.get_response(request)
        minutes = max(1, round(timeout / 60))
        message = _("You were signed out after %(minutes)d minutes without activity.") % {
            "minutes": minutes
        }
        login_url = f"{reverse('account_login')}?{urlencode({'next': next_url})}"
        return _redirect(request, login_url, message)


class StaffMfaRequiredMiddleware:
    """Holds a staff session to the MFA rule on every page (`portal.auth.policy`).

    A staff login without an authenticator app is sent to set one up; a session that has not
    passed the app's code itself (opened by any way in that skipped it) is sent to enter one.
    Demo staff are exempt only while `MFA_EXEMPT_DEMO_STAFF` (true only with DEBUG). API
    requests pass here and are refused by the API's authentication classes instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def always_open(self) -> tuple[str, ...]:
        # Leaving, and the assets and endpoints every page uses.
        return (
            reverse("account_logout"),
            settings.STATIC_URL,
            reverse("portal:healthz"),
            "/i18n/",
            "/jsi18n/",
            *API_PREFIXES,
        )

    @cached_property
    def open_for_setup(self) -> tuple[str, ...]:
        # The pages needed to set MFA up: activation asks for the password again and for a
        # verified e-mail.
        return (
            reverse("mfa_index"),
            reverse("account_reauthenticate"),
            reverse("account_email"),
            reverse("account_email_verification_sent"),
            "/accounts/confirm-email/",
            *self.always_open,
        )

    @cached_property
    def open_for_verify(self) -> tuple[str, ...]:
        # Only the code prompt: the rest of /accounts/2fa/ (recovery codes) needs the factor.
        return (reverse("mfa_reauthenticate"), *self.always_open)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(self.open_for_verify):
            return self.get_response(request)
        state = staff_mfa_state(request, user)
        if state is MfaState.SETUP and not request.path.startswith(self.open_for_setup):
            return _redirect(
                request,
                reverse("mfa_activate_totp"),
                _("Your role requires two-factor authentication: set up an authenticator app."),
            )
        if state is MfaState.VERIFY:
            next_url = _return_url(request)
            return _redirect(
                request,
                f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}",
                _(
                    "Your role requires two-factor authentication: enter the code from your "
                    "authenticator app."
                ),
            )
        return self.get_response(request)


class TryLaterMiddleware:
    """Answers a down lockout store with 503 and a refused code with 429, never a 500.

    Signing in without the lockout counters would hand out unlimited guesses, so it waits for
    the store (`portal.services.limits.StoreUnavailable`; Redis errors raised anywhere else,
    e.g. allauth's own rate limits, mean the same). allauth's `RateLimited` comes from the code
    limits when a code is about to be sent (`portal.auth.adapter`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, StoreUnavailable | RedisError):
            status, retry_after = 503, 60
            title = _("Please try again in a minute")
            if isinstance(exception, StoreUnavailable) or request.path.startswith(SIGN_IN_PREFIXES):
                slug, message = StoreUnavailable.code, StoreUnavailable.default_message
            else:
                slug = "service-unavailable"
                message = _("This page is unavailable for a moment. Please try again in a minute.")
            logger.warning("The shared store does not answer: %s", type(exception).__name__)
        elif isinstance(exception, RateLimited):
            status, slug = 429, "too-many-requests"
            retry_after = getattr(exception, "retry_after", None) or 60
            title = _("Too many requests")
            message = getattr(exception, "message", None) or _(
                "Too many requests. Please wait a few minutes and try again."
            )
        else:
            return None
        if request.path.startswith(API_PREFIXES):
            body = problem_body(
                status_code=status, detail=message, slug=slug, title=title, instance=request.path
            )
            response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
        else:
            response = render(
                request,
                "portal/auth/try_later.html",
                {"title": title, "message": message},
                status=status,
            )
        response["Retry-After"] = str(int(retry_after))
        return response


class DisplayTimezoneMiddleware:
    """Shows times in the zone the reader lives in; storage stays UTC.

    A patient reads their home clinic's zone; a staff member working in one clinic reads that
    clinic's; everyone else (network roles, several clinics, anonymous) the network's
    `DISPLAY_TIME_ZONE`. Slots and bookings never depend on this: the engine computes in each
    clinic's own zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        timezone.activate(display_timezone_for(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def display_timezone_for(user) -> str:
    from portal.models import Patient
    from portal.permissions import is_staff_member, sole_clinic

    if user is None or not user.is_authenticated:
        return settings.DISPLAY_TIME_ZONE
    clinic = sole_clinic(user)
    if clinic is not None:
        return clinic.timezone
    if not is_staff_member(user):
        zone = (
            Patient.objects.filter(user_id=user.pk, home_clinic__isnull=False)
            .values_list("home_clinic__timezone", flat=True)
            .first()
        )
        return zone or settings.DISPLAY_TIME_ZONE
    return settings.DISPLAY_TIME_ZONE
