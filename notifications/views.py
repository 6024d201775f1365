import logging
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.models import OutboxMessage
from notifications.senders.smsru import SmsRuSender, parse_smsru_callback
from notifications.senders.twilio import DELIVERY_STATUSES as TWILIO_DELIVERY_STATUSES
from notifications.senders.twilio import TwilioSender, twilio_signature
from notifications.services import delivery_record
from portal.messaging import messages_of_this_browser
from portal.permissions import require_capability

logger = logging.getLogger(__name__)

# SMS.ru posts its report lines as a PHP-style array: data[], data[0], data[1]...
SMSRU_DATA_KEY = re.compile(r"^data\[\d*\]$")


@login_required
def outbox(request):
    """The development outbox: every message the development sender 'delivered'."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    require_capability(request.user, "outbox.view")
    messages = OutboxMessage.objects.order_by("-created_at")[:200]
    return render(
        request, "notifications/outbox.html", {"messages_list": messages, "whole_outbox": True}
    )


def browser_outbox(request):
    """The development outbox as one browser sees it: only the messages its own session
    caused (a confirmation link, a sign-in code), for a visitor finishing sign-up on a
    development server. Open to anyone while DEV_OUTBOX_ENABLED; 404 otherwise."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    messages = OutboxMessage.objects.filter(
        public_id__in=messages_of_this_browser(request)
    ).order_by("-created_at")
    return render(
        request, "notifications/outbox.html", {"messages_list": messages, "whole_outbox": False}
    )


@csrf_exempt
@require_POST
def smsru_status(request, token: str):
    """SMS.ru's delivery reports. SMS.ru signs nothing: the secret token in the address
    (SMSRU_CALLBACK_TOKEN) is the check, and a wrong one is a 404 like any unknown address.
    SMS.ru repeats a callback until it is answered "100"."""
    expected = settings.SMSRU_CALLBACK_TOKEN
    if not expected or not constant_time_compare(token, expected):
        logger.warning("SMS.ru status callback refused: wrong token")
        raise Http404
    lines = [
        value
        for key, values in request.POST.lists()
        if SMSRU_DATA_KEY.match(key)
        for value in values
    ]
    for sms_id, status in parse_smsru_callback(lines):
        if not delivery_record(
            provider=SmsRuSender.name, provider_message_id=sms_id, status=status
        ):
            logger.info("SMS.ru status for an unknown message id")
    return HttpResponse("100", content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio's status callbacks, signed with X-Twilio-Signature over the callback URL we gave
    it (TWILIO_STATUS_CALLBACK_URL) and the form fields. Unsigned or wrongly signed: 403."""
    url, token = settings.TWILIO_STATUS_CALLBACK_URL, settings.TWILIO_AUTH_TOKEN
    if not (url and token):
        raise Http404
    params = [(key, value) for key, values in request.POST.lists() for value in values]
    given = request.headers.get("X-Twilio-Signature", "")
    if not given or not constant_time_compare(given, twilio_signature(url, params, token)):
        logger.warning("Twilio status callback refused: missing or wrong signature")
        return HttpResponseForbidden()
    status = TWILIO_DELIVERY_STATUSES.get(request.POST.get("MessageStatus", ""))
    sid = request.POST.get("MessageSid", "")
    known = (
        status is None
        or not sid
        or delivery_record(provider=TwilioSender.name, provider_message_id=sid, status=status)
    )
    if not known:
        logger.info("Twilio status for an unknown message sid")
    return HttpResponse(status=204)
