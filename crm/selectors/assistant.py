"""Read paths of assistant conversations: whose a conversation is, and the operator inbox."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.assistant.tools import Caller
from crm.choices import ConversationStatus
from crm.models import Conversation, Turn
from crm.services.assistant import session_hash
from portal import permissions
from scheduling.models import Doctor, Service, Specialty

SESSION_KEY = "assistant_token"
CAPABILITY = "assistant.answer"


def caller_of(request: HttpRequest) -> Caller:
    """The caller of a web or API request: a patient acting for themselves, else anonymous
    (staff chatting on the public pages are visitors like anyone)."""
    user = request.user if request.user.is_authenticated else None
    patient = user.patient if user is not None and permissions.acts_as_patient(user) else None
    return Caller(user=user, patient=patient)


def session_token(request: HttpRequest, *, create: bool) -> str:
    """The random token that ties an anonymous browser to its conversations."""
    token = str(request.session.get(SESSION_KEY, ""))
    if not token and create:
        token = request.session[SESSION_KEY] = secrets.token_urlsafe(24)
    return token


def conversation_for_caller(request: HttpRequest, public_id: Any) -> Conversation:
    """The caller's own conversation: a patient's, or this browser session's. 404 otherwise
    (unknown, malformed or someone else's)."""
    try:
        key = uuid.UUID(str(public_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise Http404 from exc
    conversation = Conversation.objects.select_related("clinic").filter(public_id=key).first()
    if conversation is None:
        raise Http404
    caller = caller_of(request)
    if conversation.patient_id is not None:
        if caller.patient is not None and caller.patient.pk == conversation.patient_id:
            return conversation
        raise Http404
    token = session_token(request, create=False)
    if token and conversation.session_hash == session_hash(token):
        return conversation
    raise Http404


def turns_of(conversation: Conversation, *, after: int = 0) -> QuerySet[Turn]:
    return conversation.turns.filter(pk__gt=after).order_by("created_at", "pk")


def inbox_visible_to(user: Any) -> QuerySet[Conversation]:
    """Conversations an operator may answer: their clinics' ones and those not tied to a clinic
    (the patient profile is the network's, and an unattributed chat needs someone to answer)."""
    permissions.require_capability(user, CAPABILITY)
    qs = Conversation.objects.select_related("patient", "operator", "clinic")
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    if ids is None:
        return qs
    return qs.filter(Q(clinic_id__isnull=True) | Q(clinic_id__in=ids))


def inbox(user: Any) -> QuerySet[Conversation]:
    return (
        inbox_visible_to(user).filter(status=ConversationStatus.HANDED_OVER).order_by("sla_due_at")
    )


def get_conversation_for_operator(user: Any, public_id: Any) -> Conversation:
    qs = inbox_visible_to(user)
    try:
        conversation = qs.filter(public_id=uuid.UUID(str(public_id))).first()
    except (ValueError, TypeError, AttributeError) as exc:
        raise Http404 from exc
    if conversation is None:
        raise Http404
    return conversation


def inbox_facts(conversation: Conversation) -> list[tuple[str, str]]:
    """What the dialogue had gathered, named for the operator (so nothing is asked again)."""
    state = conversation.state or {}
    facts: list[tuple[str, str]] = []
    if state.get("flow"):
        facts.append((str(_("Wanted")), state["flow"]))
    for key, model, label in (
        ("specialty_ids", Specialty, _("Specialty")),
        ("service_ids", Service, _("Service")),
        ("doctor_ids", Doctor, _("Doctor")),
    ):
        if state.get(key):
            names = ", ".join(str(row) for row in model.objects.filter(pk__in=state[key]))
            facts.append((str(label), names))
    when = state.get("when") or {}
    if when.get("date_from"):
        hours = "–".join(t[:5] for t in (when.get("time_from"), when.get("time_to")) if t)
        facts.append((str(_("When")), f"{when['date_from']} {hours}".strip()))
    if state.get("for_whom"):
        facts.append((str(_("For whom")), state["for_whom"]))
    return facts
