"""The assistant behind Telegram and inbound SMS: `notifications.inbound` hands free text of a
matched patient to `answer_inbound` (registered at start-up), and sends its answer back."""

from __future__ import annotations

import datetime

from django.utils import timezone

from crm.assistant.tools import Caller
from crm.choices import ConversationChannel, ConversationStatus
from crm.models import Conversation
from crm.services.assistant import conversation_message, conversation_start
from notifications.choices import InboundKeyword
from notifications.inbound import parse_keyword
from portal import permissions
from portal.models import Patient

# A message after this long a silence starts a new conversation.
CONVERSATION_GAP = datetime.timedelta(hours=24)
CHANNELS = {"messenger": ConversationChannel.TELEGRAM, "sms": ConversationChannel.SMS}


def answer_inbound(*, patient: Patient, channel: str, text: str) -> str | None:
    conversation_channel = CHANNELS.get(channel)
    if conversation_channel is None:
        return None
    user = patient.user if patient.user_id else None
    # The chat or number is linked to the patient (a code, the phone's blind index); acting for
    # them is allowed only through their own login, so a staff login never books here.
    if user is not None and not permissions.acts_as_patient(user):
        user = None
    caller = Caller(user=user, patient=patient)
    conversation = (
        Conversation.objects.filter(
            patient=patient,
            channel=conversation_channel,
            status__in=(ConversationStatus.OPEN, ConversationStatus.HANDED_OVER),
            last_message_at__gte=timezone.now() - CONVERSATION_GAP,
        )
        .order_by("-last_message_at")
        .first()
    )
    if parse_keyword(text) != InboundKeyword.OTHER and not (
        conversation is not None and conversation.state.get("pending")
    ):
        # A YES/NO that neither an offer nor the assistant asked for: the default answer.
        return None
    if conversation is None:
        conversation = conversation_start(
            channel=conversation_channel, caller=caller, language=patient.preferred_language or "ru"
        )
    return conversation_message(conversation=conversation, text=text, caller=caller).reply
