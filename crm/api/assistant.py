"""POST /api/v1/assistant/messages/: talk to the assistant (anonymous allowed, throttled)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.assistant.understanding import INTENTS
from crm.choices import ConversationChannel
from crm.selectors.assistant import caller_of, conversation_for_caller, session_token
from crm.services.assistant import conversation_message, conversation_start
from portal.api.access import public
from portal.api.exceptions import problem_responses
from portal.throttling import AssistantAnonymousThrottle, AssistantUserThrottle
from scheduling.api.serializers import SlotOutput


class MessageInput(serializers.Serializer):
    conversation = serializers.UUIDField(
        allow_null=True,
        required=False,
        help_text=_("The conversation to continue; null or omitted starts a new one."),
    )
    text = serializers.CharField(max_length=1000, trim_whitespace=True)
    language = serializers.ChoiceField(choices=["ru", "en"], required=False)


class MessageOutput(serializers.Serializer):
    conversation = serializers.UUIDField()
    reply = serializers.CharField()
    intent = serializers.ChoiceField(choices=list(INTENTS))
    entities = serializers.DictField(
        help_text=_("What was understood: specialty, service, doctor and clinic ids, dates.")
    )
    offers = SlotOutput(many=True, help_text=_("Slots offered, as the slots API gives them."))
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("What was done: searched, held, booked, rescheduled, cancelled, ..."),
    )


@public
class AssistantMessageView(APIView):
    """One message to the assistant and its answer.

    Anyone may search and leave a callback request; booking, moving and cancelling need a
    signed-in patient. An anonymous conversation is tied to the caller's session cookie.
    """

    throttle_classes = [AssistantAnonymousThrottle, AssistantUserThrottle]

    @extend_schema(
        operation_id="assistant_messages_create",
        request=MessageInput,
        responses={200: MessageOutput, **problem_responses(400, 404, 429)},
    )
    def post(self, request):
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        caller = caller_of(request)
        if values.get("conversation"):
            conversation = conversation_for_caller(request, values["conversation"])
        else:
            conversation = conversation_start(
                channel=ConversationChannel.API,
                caller=caller,
                token=session_token(request, create=caller.patient is None),
                language=values.get("language") or request.LANGUAGE_CODE[:2],
            )
        result = conversation_message(
            conversation=conversation,
            text=values["text"],
            caller=caller,
            language=values.get("language"),
        )
        return Response(
            {
                "conversation": str(result.conversation.public_id),
                "reply": result.reply,
                "intent": result.intent,
                "entities": result.entities,
                "offers": result.offers,
                "actions": result.actions,
            }
        )
