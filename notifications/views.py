import json
import logging
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.choices import Channel
from notifications.dispatch import delivery_record
from notifications.inbound import inbound_receive
from notifications.models import OutboxMessage
from notifications.senders.smsru import SmsRuSender, parse_smsru_callback, parse_smsru_incoming
from notifications.senders.telegram import TelegramSender
from notifications.senders.twilio import DELIVERY_STATUSES as TWILIO_DELIVERY_STATUSES
from notifications.senders.twilio import TwilioSender, twilio_signature
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
    """SMS.ru's callbacks: delivery reports and incoming SMS (one address takes both, as
    SMS.ru posts every callback to it). SMS.ru signs nothing: the secret token in the address
    (SMSRU_CALLBACK_TOKEN) is the check, and a wrong one is a 404 like any unknown address.
    SMS.ru repeats a callback until it is answered "100"; an incoming SMS seen before is
    ignored (`inbound_receive`)."""
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
    for sms_id, sender, text in parse_smsru_incoming(lines):
        inbound_receive(
            provider=SmsRuSender.name,
            channel=Channel.SMS,
            external_id=sms_id,
            sender=sender,
            text=text,
        )
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


# An empty TwiML answer: Medfront replies through the outbox, not in the webhook's answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """SMS sent to our Twilio number ("A message comes in" webhook), signed with
    X-Twilio-Signature over TWILIO_INBOUND_URL and the form fields like the status callbacks.
    Unsigned or wrongly signed: 403; a MessageSid seen before is ignored."""
    url, token = settings.TWILIO_INBOUND_URL, settings.TWILIO_AUTH_TOKEN
    if not (url and token):
        raise Http404
    params = [(key, value) for key, values in request.POST.lists() for value in values]
    given = request.headers.get("X-Twilio-Signature", "")
    if not given or not constant_time_compare(given, twilio_signature(url, params, token)):
        logger.warning("Twilio inbound SMS refused: missing or wrong signature")
        return HttpResponseForbidden()
    sid, sender = request.POST.get("MessageSid", ""), request.POST.get("From", "")
    if not (sid and sender):
        return HttpResponseBadRequest("MessageSid and From are required")
    result = inbound_receive(
        provider=TwilioSender.name,
        channel=Channel.SMS,
        external_id=sid,
        sender=sender,
        text=request.POST.get("Body", ""),
    )
    if result is None:
        logger.warning("Twilio inbound SMS replayed: ignored")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def telegram_webhook(request):
    """The bot's updates (setWebhook with secret_token = TELEGRAM_WEBHOOK_SECRET). Telegram
    sends the secret back in X-Telegram-Bot-Api-Secret-Token: missing or wrong, 403 and a log
    line without the update. An update_id seen before is ignored (answered 200, so Telegram
    stops repeating it). Only text messages in private chats are read."""
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    if not secret:
        raise Http404
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not given or not constant_time_compare(given, secret):
        logger.warning("Telegram webhook refused: missing or wrong secret token")
        return HttpResponseForbidden()
    try:
        update = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("not JSON")
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return HttpResponseBadRequest("no update_id")
    message = update.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    text = message.get("text") if isinstance(message, dict) else None
    if not (isinstance(chat, dict) and chat.get("type") == "private" and isinstance(text, str)):
        return HttpResponse(status=200)  # other kinds of update carry nothing we act on
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return HttpResponseBadRequest("no chat id")
    result = inbound_receive(
        provider=TelegramSender.name,
        channel=Channel.MESSENGER,
        external_id=str(update_id),
        sender=str(chat_id),
        text=text,
    )
    if result is None:
        logger.warning("Telegram update replayed: ignored")
    return HttpResponse(status=200)
