"""Write paths of assistant conversations: a patient's message, an operator's reply, closing,
and the retention purge.

Every message runs in one transaction: the patient's turn, the engine's tool calls (a booking
is itself atomic inside it) and the assistant's turn are saved together or not at all.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from crm.assistant.engine import EmbeddedEngine, Engine
from crm.assistant.engine.model import ModelEngine
from crm.assistant.tools import Caller
from crm.choices import ConversationChannel, ConversationStatus, TurnAuthor
from crm.models import Conversation, Turn
from notifications.services import outbox_enqueue
from portal.choices import AuditAction
from portal.services.audit import audit_record
from scheduling.api.slots import slot_dicts
from scheduling.models import Service
from scheduling.selectors.availability import Slot

OBJECT_TYPE = "crm.conversation"
MAX_TEXT = 1000
# Where an operator's reply goes for conversations outside the widget.
OUTBOX_CHANNELS: dict[str, str] = {
    ConversationChannel.SMS: "sms",
    ConversationChannel.TELEGRAM: "messenger",
}
REPLY_EVENT = "inbound.assistant"


def session_hash(token: str) -> str:
    """HMAC of an anonymous browser's conversation token (never stored in clear)."""
    return hmac.new(
        settings.BLIND_INDEX_KEY, f"assistant\x1f{token}".encode(), hashlib.sha256
    ).hexdigest()


def default_engine() -> Engine:
    """The engine `ASSISTANT_ENGINE` names: the embedded one unless a model is configured."""
    if settings.ASSISTANT_ENGINE == "openai":
        return ModelEngine.from_settings()
    return EmbeddedEngine()


@dataclass
class MessageResult:
    conversation: Conversation
    reply: str
    intent: str
    entities: dict[str, Any]
    offers: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def conversation_start(
    *, channel: str, caller: Caller, token: str = "", language: str = "ru"
) -> Conversation:
    return Conversation.objects.create(
        channel=channel,
        patient=caller.patient,
        session_hash=session_hash(token) if token and caller.patient is None else "",
        language=language,
    )


@transaction.atomic
def conversation_message(
    *,
    conversation: Conversation,
    text: str,
    caller: Caller,
    language: str | None = None,
    engine: Engine | None = None,
    now: datetime.datetime | None = None,
) -> MessageResult:
    """Take one patient message and answer it.

    Invariants: the text is stored encrypted, the entities without personal data; a conversation
    with an operator is not answered by the engine (the message waits in the inbox); a handoff
    sets the operator's SLA; the analytics fields follow what happened.
    """
    now = now or timezone.now()
    text = (text or "").strip()[:MAX_TEXT]
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    if caller.patient is not None and conversation.patient_id is None:
        conversation.patient = caller.patient
    if language:
        conversation.language = language
    Turn.objects.create(conversation=conversation, author=TurnAuthor.PATIENT, text=text)
    conversation.last_message_at = now
    if conversation.status == ConversationStatus.HANDED_OVER:
        conversation.save()
        with translation.override(conversation.language):
            waiting = translation.gettext("An operator will answer here soon.")
        return MessageResult(conversation, waiting, "handoff", {})
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
        conversation.closed_at = None
    with translation.override(language or conversation.language):
        reply = (engine or default_engine()).respond(
            conversation=conversation,
            text=text,
            language=language,
            caller=caller,
            now=now,
        )
    conversation.language = reply.entities.get("language") or conversation.language
    offers = [slot.slot_id for slot in reply.offers]
    Turn.objects.create(
        conversation=conversation,
        author=TurnAuthor.ASSISTANT,
        text=reply.text,
        intent=reply.intent,
        confidence=reply.confidence,
        entities=reply.entities,
        offered_slot_ids=offers,
        actions=reply.actions,
    )
    if reply.handoff_reason:
        conversation.status = ConversationStatus.HANDED_OVER
        conversation.handoff_reason = reply.handoff_reason
        conversation.handed_over_at = now
        conversation.sla_due_at = now + datetime.timedelta(
            minutes=settings.ASSISTANT_OPERATOR_SLA_MINUTES
        )
        conversation.resolved_without_operator = False
    elif reply.resolved and conversation.handed_over_at is None:
        conversation.resolved_without_operator = True
    if reply.booked is not None:
        conversation.bookings_made += 1
        conversation.clinic_id = reply.booked.clinic_id
        if conversation.booked_at is None:
            conversation.booked_at = now
            conversation.booked_appointment = reply.booked
    conversation.save()
    return MessageResult(
        conversation=conversation,
        reply=reply.text,
        intent=reply.intent,
        entities=reply.entities,
        offers=_offer_dicts(reply.offers),
        actions=reply.actions,
    )


def _offer_dicts(slots: list[Slot]) -> list[dict[str, Any]]:
    if not slots:
        return []
    prices = dict(
        Service.objects.filter(pk__in={s.service_id for s in slots}).values_list("pk", "price")
    )
    items = []
    for slot in slots:
        items += slot_dicts([slot], price=prices[slot.service_id])
    return items


@transaction.atomic
def conversation_operator_reply(*, conversation: Conversation, operator: Any, text: str) -> Turn:
    """An operator answers in the same thread: the widget sees it on its next poll; Telegram
    and SMS conversations get it through the outbox."""
    text = (text or "").strip()[:MAX_TEXT]
    now = timezone.now()
    turn = Turn.objects.create(
        conversation=conversation, author=TurnAuthor.OPERATOR, text=text, operator=operator
    )
    fields = ["operator", "last_message_at"]
    conversation.operator = operator
    conversation.last_message_at = now
    if conversation.operator_answered_at is None:
        conversation.operator_answered_at = now
        fields.append("operator_answered_at")
    conversation.save(update_fields=fields)
    channel = OUTBOX_CHANNELS.get(conversation.channel)
    if channel and conversation.patient is not None:
        outbox_enqueue(
            event=REPLY_EVENT,
            channel=channel,
            patient=conversation.patient,
            context={"text": text},
            language=conversation.language,
            idempotency_key=f"assistant-reply:{turn.pk}",
            key_is_new=True,
        )
    audit_record(
        actor=operator,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=conversation.public_id,
        patient_ids=[conversation.patient.public_id] if conversation.patient else [],
        changed_fields=["turns"],
    )
    return turn


@transaction.atomic
def conversation_close(*, conversation: Conversation, operator: Any) -> Conversation:
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = timezone.now()
    conversation.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=operator,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=conversation.public_id,
        changed_fields=["status"],
    )
    return conversation


def conversation_audit_read(*, conversation: Conversation, actor: Any) -> None:
    """A staff member opened the transcript."""
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type=OBJECT_TYPE,
        object_id=conversation.public_id,
        patient_ids=[conversation.patient.public_id] if conversation.patient else [],
    )


def conversations_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete transcripts older than `ASSISTANT_RETENTION_DAYS` (counted from the last
    message); the conversation row stays, without its texts, for the analytics."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ASSISTANT_RETENTION_DAYS)
    old = Conversation.objects.filter(last_message_at__lt=cutoff)
    deleted, _ = Turn.objects.filter(conversation__in=old).delete()
    old.exclude(session_hash="").update(session_hash="", state={})
    return deleted
