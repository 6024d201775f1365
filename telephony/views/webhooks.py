"""Provider webhooks: the only CSRF-exempt views of the app (providers cannot hold a token;
the signature is their credential).

Answers: 200 accepted (also for events about nothing we keep), 400 malformed, 403 unsigned,
wrongly signed, stale or replayed, 404 unknown account, 405 other methods. Refusals are
logged with the provider, the account's public id and a reason: never a number or a body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from telephony.choices import Provider
from telephony.models import TelephonyAccount
from telephony.providers import generic, mango, zadarma
from telephony.providers.base import CallEvent, WebhookMalformed, WebhookRefused, WebhookRequest
from telephony.services.calls import call_event_record

logger = logging.getLogger("medfront.telephony")
ZD_ECHO = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

Parser = Callable[[WebhookRequest, TelephonyAccount], list[CallEvent]]


def _account(provider: str, public_id) -> TelephonyAccount | None:
    return TelephonyAccount.objects.filter(
        public_id=public_id, provider=provider, is_active=True
    ).first()


def _refused(status: int, provider: str, account: TelephonyAccount, reason: str) -> HttpResponse:
    logger.warning(
        "telephony webhook refused: provider=%s account=%s status=%s reason=%s",
        provider,
        account.public_id,
        status,
        reason,
    )
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _receive(request: HttpRequest, provider: str, public_id, parse: Parser) -> HttpResponse:
    account = _account(provider, public_id)
    if account is None:
        return JsonResponse({"ok": False, "error": "unknown account"}, status=404)
    try:
        body = request.body
        form = {key: request.POST.get(key, "") for key in request.POST}
    except (SuspiciousOperation, ValueError, UnicodeDecodeError):
        return _refused(400, provider, account, "unreadable body")
    webhook = WebhookRequest(
        body=body, form=form, headers=request.headers, received_at=timezone.now()
    )
    try:
        events = parse(webhook, account)
        for event in events:
            call_event_record(account=account, event=event, now=webhook.received_at)
    except WebhookRefused as refusal:
        return _refused(403, provider, account, refusal.reason)
    except WebhookMalformed as malformed:
        return _refused(400, provider, account, malformed.reason)
    return JsonResponse({"ok": True, "events": len(events)})


@csrf_exempt
@require_http_methods(["POST"])
def generic_events(request, account):
    return _receive(
        request,
        Provider.GENERIC,
        account,
        lambda webhook, acc: generic.parse(webhook, secret=acc.secret),
    )


@csrf_exempt
@require_http_methods(["POST"])
def mango_events(request, account, kind):
    return _receive(
        request,
        Provider.MANGO,
        account,
        lambda webhook, acc: mango.parse(
            webhook, kind=kind, api_key=acc.api_key, secret=acc.secret
        ),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def zadarma_events(request, account):
    if request.method == "GET":
        # Zadarma checks the address with `?zd_echo=<random>` and wants it echoed.
        if _account(Provider.ZADARMA, account) is None:
            return JsonResponse({"ok": False, "error": "unknown account"}, status=404)
        echo = request.GET.get("zd_echo", "")
        if not ZD_ECHO.match(echo):
            return HttpResponseBadRequest("zd_echo expected", content_type="text/plain")
        return HttpResponse(echo, content_type="text/plain")
    return _receive(
        request,
        Provider.ZADARMA,
        account,
        lambda webhook, acc: zadarma.parse(webhook, secret=acc.secret),
    )
