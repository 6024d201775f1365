"""Prepaying a visit: "Pay now" sends the patient to the provider, the provider sends them
back to the return page and notifies the webhook. Also the built-in test provider's own
payment page, which stands in for a real provider's."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from scheduling.choices import PaymentStatus
from scheduling.errors import BookingError
from scheduling.payments import ProviderError, WebhookRefused, get_provider, provider_names
from scheduling.payments import test_gateway as gateway
from scheduling.selectors.payments import (
    AWAITING,
    PAID,
    REFUND_PENDING,
    REFUNDED,
    payment_state,
)
from scheduling.selectors.visits import get_visit_for_patient
from scheduling.services.payments import (
    latest_payment_refresh,
    payment_start,
    payment_webhook_handle,
)

logger = logging.getLogger(__name__)


@login_required
@require_POST
def pay(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    appointment = get_visit_for_patient(request.user, public_id)
    return_url = request.build_absolute_uri(
        reverse("scheduling:payment_return", args=[appointment.public_id])
    )
    try:
        payment = payment_start(appointment=appointment, actor=request.user, return_url=return_url)
    except BookingError as exc:
        messages.error(request, str(exc.message))
        return redirect("scheduling:visit", appointment.public_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        messages.info(request, _("This visit is paid already."))
        return redirect("scheduling:visit", appointment.public_id)
    return HttpResponseRedirect(payment.confirmation_url)


@login_required
def payment_return(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Where the provider sends the payer back: ask the provider now rather than wait for
    its webhook, then show the visit."""
    appointment = get_visit_for_patient(request.user, public_id)
    latest_payment_refresh(appointment=appointment)
    state = payment_state(appointment)
    if state.kind == PAID:
        messages.success(request, _("Thank you: the visit is paid and confirmed."))
    elif state.kind in (REFUND_PENDING, REFUNDED):
        messages.warning(
            request,
            _(
                "The payment arrived after the time had been freed, so it is being refunded. "
                "Please book again."
            ),
        )
    elif state.kind == AWAITING:
        messages.warning(
            request,
            _("The payment has not gone through yet. You can try again while the time is held."),
        )
    return redirect("scheduling:visit", appointment.public_id)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's notification. Refusals are logged with a reason code only and answered
    400, which providers do not take as delivered."""
    if provider not in provider_names() or (provider == "test" and not _test_gateway_on()):
        raise Http404
    try:
        adapter = get_provider(provider)
    except (LookupError, ImproperlyConfigured):
        raise Http404 from None  # a provider this site is not set up for
    try:
        event = adapter.parse_webhook(request)
        payment_webhook_handle(provider_name=provider, event=event)
    except WebhookRefused as exc:
        logger.warning("payment webhook refused: provider=%s reason=%s", provider, exc.reason)
        return HttpResponse(status=400)
    except ProviderError as exc:
        # The provider will send the notification again.
        logger.warning("payment webhook not processed: provider=%s %s", provider, exc.detail)
        return HttpResponse(status=503)
    status, body = adapter.webhook_ok()
    return HttpResponse(body, status=status, content_type="text/plain")


def test_gateway(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The test provider's payment page: anyone holding its link may pay or fail, as on a
    real provider's page; it exists only while the test provider is configured."""
    remote = gateway.gateway_payment_for_page(public_id) if _test_gateway_on() else None
    if remote is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("pay", "fail"):
            gateway.gateway_settle(
                remote=remote, paid=action == "pay", notify_url=gateway.webhook_url(request)
            )
            return HttpResponseRedirect(remote.return_url)
    return render(request, "scheduling/test_gateway.html", {"remote": remote})


def _test_gateway_on() -> bool:
    return settings.PAYMENT_PROVIDER == "test"
