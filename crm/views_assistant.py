"""The assistant's chat widget (anyone) and the operator inbox (`assistant.answer`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.views import APIView

from crm.choices import ConversationChannel, ConversationStatus
from crm.models import Conversation
from crm.selectors.assistant import (
    CAPABILITY,
    caller_of,
    conversation_for_caller,
    get_conversation_for_operator,
    inbox,
    inbox_facts,
    session_token,
    turns_of,
)
from crm.services.assistant import (
    MAX_TEXT,
    conversation_audit_read,
    conversation_close,
    conversation_message,
    conversation_operator_reply,
    conversation_start,
)
from portal import permissions
from portal.throttling import AssistantAnonymousThrottle, AssistantUserThrottle

WIDGET_SESSION_KEY = "assistant_conversation"


class MessageForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your message"), max_length=MAX_TEXT, strip=True, required=True
    )


# --- The widget ----------------------------------------------------------------------------------


def _widget_conversation(request) -> Conversation | None:
    public_id = request.session.get(WIDGET_SESSION_KEY)
    if not public_id:
        return None
    try:
        return conversation_for_caller(request, public_id)
    except Http404:
        request.session.pop(WIDGET_SESSION_KEY, None)
        return None


def _throttled(request) -> bool:
    """The API's assistant limits apply to the widget too (same keys, same rates)."""
    for throttle_class in (AssistantAnonymousThrottle, AssistantUserThrottle):
        throttle = throttle_class()
        if not throttle.allow_request(request, APIView()):
            return True
    return False


@require_http_methods(["GET", "POST"])
def widget(request):
    """GET: the chat panel with the conversation so far (`?part=turns`: only the messages,
    which the widget polls for an operator's answer); POST: a message to the assistant."""
    conversation = _widget_conversation(request)
    form = MessageForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            error, status = _("Write a message of up to 1000 characters."), 400
        elif _throttled(request):
            error, status = _("Too many messages. Please wait a minute."), 429
        else:
            caller = caller_of(request)
            if conversation is None:
                conversation = conversation_start(
                    channel=ConversationChannel.WIDGET,
                    caller=caller,
                    token=session_token(request, create=caller.patient is None),
                    language=request.LANGUAGE_CODE[:2],
                )
                request.session[WIDGET_SESSION_KEY] = str(conversation.public_id)
            result = conversation_message(
                conversation=conversation,
                text=form.cleaned_data["text"],
                caller=caller,
                language=request.LANGUAGE_CODE[:2],
            )
            conversation = result.conversation
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    turns = list(turns_of(conversation, after=after)) if conversation is not None else []
    context = {"turns": turns, "error": error, "conversation": conversation}
    # Polls refresh only the messages (the patient may be typing); the rest gets the panel.
    template = "turns" if request.GET.get("part") == "turns" else "panel"
    return render(request, f"crm/htmx/assistant_{template}.html", context, status=status)


# --- The operator inbox --------------------------------------------------------------------------


@login_required
def inbox_list(request):
    permissions.require_capability(request.user, CAPABILITY)
    now = timezone.now()
    rows = [
        {"conversation": c, "overdue": c.sla_due_at is not None and c.sla_due_at < now}
        for c in inbox(request.user)[:200]
    ]
    return render(request, "crm/inbox.html", {"rows": rows, "now": now})


@login_required
@require_http_methods(["GET", "POST"])
def inbox_conversation(request, public_id):
    conversation = get_conversation_for_operator(request.user, public_id)
    form = MessageForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            conversation_operator_reply(
                conversation=conversation, operator=request.user, text=form.cleaned_data["text"]
            )
            messages.success(request, _("Your answer is sent."))
            return redirect("crm:inbox_conversation", public_id=conversation.public_id)
        status = 400
    else:
        conversation_audit_read(conversation=conversation, actor=request.user)
        status = 200
    turns = list(turns_of(conversation))
    last_intent = next((t for t in reversed(turns) if t.intent and t.intent != "handoff"), None)
    context = {
        "conversation": conversation,
        "turns": turns,
        "form": form,
        "last_intent": last_intent,
        "facts": inbox_facts(conversation),
    }
    return render(request, "crm/inbox_conversation.html", context, status=status)


@login_required
@require_POST
def inbox_close(request, public_id):
    conversation = get_conversation_for_operator(request.user, public_id)
    if conversation.status != ConversationStatus.CLOSED:
        conversation_close(conversation=conversation, operator=request.user)
        messages.success(request, _("The conversation is closed."))
    return redirect("crm:inbox")
