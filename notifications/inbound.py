"""Replies patients send by SMS or Telegram: STOP, START, HELP, YES/NO and anything else.

The webhooks (`views.twilio_inbound`, `views.smsru_status`, `views.telegram_webhook`) verify
the provider and call `inbound_receive` with the sender's address and the text. It records the
message once per provider id (a repeated callback or a replayed update changes nothing),
matches the sender to patients through the phone's blind index or the Telegram link, and:

- STOP / СТОП pauses the channel for the matched patients (care and marketing), START /
  СТАРТ resumes it, HELP / ПОМОЩЬ answers with the clinic's contact text (INBOUND_HELP_TEXT);
- YES / NO (ДА / НЕТ) go to the reply handlers registered here, in order, until one takes the
  answer. `notifications` may not import `scheduling` (import-linter), so the waitlist offers
  register their handler at start-up: `register_reply_handler(waitlist_offer_reply)`;
- `/start <code>` in Telegram links the chat to the patient whose code it is;
- anything else (and a YES/NO no offer was waiting for) goes to the text handler registered
  here (the CRM's assistant registers one at start-up: `register_text_handler`), whose answer
  is sent back on the same channel; without one, or when it has no answer, a short reply
  points to the portal.

An unknown sender gets no reply, and only the keyword its text was read as is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications.choices import Channel, InboundKeyword
from notifications.models import InboundMessage
from notifications.services import outbox_enqueue
from portal.models import Patient
from portal.selectors.contact import (
    dependants_reached_through,
    patient_by_chat,
    patients_by_phone,
)
from portal.services.contact import (
    LinkCodeInvalid,
    contact_channel_start,
    contact_channel_stop,
    messenger_link_by_code,
)

logger = logging.getLogger(__name__)

KEYWORDS = {
    InboundKeyword.STOP: {"STOP", "СТОП", "UNSUBSCRIBE", "ОТПИСАТЬСЯ"},
    InboundKeyword.START: {"START", "СТАРТ", "UNSTOP"},
    InboundKeyword.HELP: {"HELP", "ПОМОЩЬ", "INFO"},
    InboundKeyword.YES: {"YES", "Y", "ДА", "Д"},
    InboundKeyword.NO: {"NO", "N", "НЕТ", "Н"},
}
_BY_WORD = {word: keyword for keyword, words in KEYWORDS.items() for word in words}
# The events of the replies (templates in notifications/messages/).
REPLY_EVENTS: dict[str, str] = {
    InboundKeyword.STOP: "inbound.stopped",
    InboundKeyword.START: "inbound.started",
    InboundKeyword.HELP: "inbound.help",
    InboundKeyword.OTHER: "inbound.unknown",
}
NO_QUESTION_EVENT = "inbound.no_question"
LINKED_EVENT = "messenger.linked"
LINK_FAILED_EVENT = "messenger.link_failed"


class ReplyHandler(Protocol):
    """Takes a patient's YES (`accept=True`) or NO; returns something truthy when it had a
    question waiting for that patient's answer (an offer), falsy otherwise."""

    def __call__(self, *, patient: Patient, accept: bool, channel: str) -> Any: ...


_reply_handlers: list[ReplyHandler] = []


class TextHandler(Protocol):
    """Answers a matched patient's free text (not a keyword); returns the reply's text, or
    None to leave the message to the default reply."""

    def __call__(self, *, patient: Patient, channel: str, text: str) -> str | None: ...


_text_handlers: list[TextHandler] = []
TEXT_REPLY_EVENT = "inbound.assistant"


def register_text_handler(handler: TextHandler) -> None:
    """Send free text to `handler` (registering it again changes nothing)."""
    if handler not in _text_handlers:
        _text_handlers.append(handler)


def unregister_text_handler(handler: TextHandler) -> None:
    if handler in _text_handlers:
        _text_handlers.remove(handler)


def register_reply_handler(handler: ReplyHandler) -> None:
    """Add `handler` to the ones YES/NO replies go to (registering it again changes nothing)."""
    if handler not in _reply_handlers:
        _reply_handlers.append(handler)


def unregister_reply_handler(handler: ReplyHandler) -> None:
    if handler in _reply_handlers:
        _reply_handlers.remove(handler)


def parse_keyword(text: str) -> str:
    """The keyword a reply's text is, case-insensitive and trimmed ("Стоп!", " yes ",
    "/stop" too); OTHER for anything else."""
    word = (text or "").strip().strip(".!?,;").strip().upper().removeprefix("/")
    return _BY_WORD.get(word, InboundKeyword.OTHER)


def link_code_of(text: str) -> str | None:
    """The code of a Telegram `/start <code>` (a deep link t.me/<bot>?start=<code> sends
    it the same way), else None."""
    command, _sep, argument = (text or "").strip().partition(" ")
    if command.split("@", 1)[0].lower() != "/start":
        return None
    return argument.strip() or None


@dataclass(frozen=True)
class InboundResult:
    keyword: str
    patients: list[Patient]
    reply_event: str | None


def inbound_receive(
    *, provider: str, channel: str, external_id: str, sender: str, text: str
) -> InboundResult | None:
    """Record and act on one inbound message; None when this provider id was seen before.

    Invariants: recorded at most once per (provider, external_id); a reply goes only to a
    matched patient (or to a chat that sent a link code); STOP/START change only the channel
    the reply came on; the text is stored (encrypted) only for a matched patient.
    """
    if channel not in (Channel.SMS, Channel.MESSENGER):
        raise ValueError(f"no inbound messages on {channel!r}")
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = InboundMessage.objects.create(
                    provider=provider,
                    external_id=str(external_id)[:100],
                    channel=channel,
                    keyword=InboundKeyword.OTHER,
                )
        except IntegrityError:
            logger.info("inbound %s message seen before; ignored", provider)
            return None
        code = link_code_of(text) if channel == Channel.MESSENGER else None
        if code is not None:
            return _link(record, code=code, chat_id=sender)
        keyword = parse_keyword(text)
        patients = _patients_of(channel, sender)
        record.keyword = keyword
        if patients:
            record.patient = patients[0]
            record.body = text[:1000]
        record.save(update_fields=["keyword", "patient", "body"])
        if not patients:
            logger.info("inbound %s message from an unknown sender: no reply", provider)
            return InboundResult(keyword=keyword, patients=[], reply_event=None)
        event = _act(keyword, patients=patients, channel=channel)
        # Free text, and a YES/NO that no offer was waiting for (the assistant may have asked),
        # go to the registered text handler before the default answers.
        answer = None
        if event in (REPLY_EVENTS[InboundKeyword.OTHER], NO_QUESTION_EVENT):
            answer = _answer_text(patient=patients[0], channel=channel, text=text)
        if answer is not None:
            _reply(
                TEXT_REPLY_EVENT,
                patient=patients[0],
                channel=channel,
                to=sender,
                record=record,
                text=answer,
            )
            return InboundResult(keyword=keyword, patients=patients, reply_event=TEXT_REPLY_EVENT)
        _reply(event, patient=patients[0], channel=channel, to=sender, record=record)
    return InboundResult(keyword=keyword, patients=patients, reply_event=event)


def _patients_of(channel: str, sender: str) -> list[Patient]:
    """The patients whose phone or chat this is, then the dependants written to there (they
    have none of their own): a STOP or a YES from a parent's phone is the child's too."""
    if channel == Channel.SMS:
        found = patients_by_phone(sender)
    else:
        patient = patient_by_chat(sender)
        found = [patient] if patient is not None else []
    return found + dependants_reached_through(found, channel)


def _answer_text(*, patient: Patient, channel: str, text: str) -> str | None:
    """The registered text handler's answer (None: no handler had one)."""
    for handler in list(_text_handlers):
        answer = handler(patient=patient, channel=channel, text=text)
        if answer:
            return answer
    return None


def _act(keyword: str, *, patients: list[Patient], channel: str) -> str | None:
    """Do what the keyword asks; returns the event of the reply (None: no reply)."""
    if keyword == InboundKeyword.STOP:
        contact_channel_stop(patients=patients, channel=channel)
    elif keyword == InboundKeyword.START:
        contact_channel_start(patients=patients, channel=channel)
    elif keyword in (InboundKeyword.YES, InboundKeyword.NO):
        return _dispatch_answer(
            patients=patients, accept=keyword == InboundKeyword.YES, channel=channel
        )
    return REPLY_EVENTS.get(keyword, REPLY_EVENTS[InboundKeyword.OTHER])


def _dispatch_answer(*, patients: list[Patient], accept: bool, channel: str) -> str | None:
    """Offer the answer to each handler for each matched patient until one takes it. The
    handler sends its own notice (the offer's outcome); without a taker the patient is told
    no question was waiting."""
    for patient in patients:
        for handler in list(_reply_handlers):
            if handler(patient=patient, accept=accept, channel=channel):
                return None
    return NO_QUESTION_EVENT


def _link(record: InboundMessage, *, code: str, chat_id: str) -> InboundResult:
    record.keyword = InboundKeyword.LINK
    try:
        with transaction.atomic():
            patient = messenger_link_by_code(code=code, chat_id=chat_id)
    except LinkCodeInvalid:
        record.save(update_fields=["keyword"])
        # The chat is trying to link: it is told the code did not work (nothing about whose
        # code it might have been), and nothing else.
        _reply(
            LINK_FAILED_EVENT, patient=None, channel=Channel.MESSENGER, to=chat_id, record=record
        )
        return InboundResult(
            keyword=InboundKeyword.LINK, patients=[], reply_event=LINK_FAILED_EVENT
        )
    record.patient = patient
    record.save(update_fields=["keyword", "patient"])
    _reply(LINKED_EVENT, patient=patient, channel=Channel.MESSENGER, to=chat_id, record=record)
    return InboundResult(keyword=InboundKeyword.LINK, patients=[patient], reply_event=LINKED_EVENT)


def help_text() -> str:
    return settings.INBOUND_HELP_TEXT


def _reply(
    event: str | None,
    *,
    patient: Patient | None,
    channel: str,
    to: str,
    record: InboundMessage,
    text: str = "",
) -> None:
    if event is None:
        return
    outbox_enqueue(
        event=event,
        channel=channel,
        patient=patient,
        to=to,
        context={"help_text": help_text(), "channel": channel, "text": text},
        idempotency_key=f"inbound:{record.provider}:{record.external_id}",
        key_is_new=True,
    )


# For tests and the integrator: the handlers currently registered, in order.
def reply_handlers() -> list[Callable[..., Any]]:
    return list(_reply_handlers)


def text_handlers() -> list[Callable[..., Any]]:
    return list(_text_handlers)
