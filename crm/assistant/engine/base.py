"""What every turn of the dialogue shares: the reply, the engine protocol, labels, offers."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.text import tokens
from crm.assistant.understanding import Understanding
from crm.models import Conversation
from portal.formatting import day_label, time_label
from portal.models import Clinic
from scheduling.models import Appointment, Doctor
from scheduling.selectors.availability import Slot


@dataclass
class Reply:
    """What one patient message produced."""

    text: str
    intent: str
    confidence: float
    entities: dict[str, Any]
    offers: list[Slot] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    handoff_reason: str = ""
    resolved: bool = False
    booked: Appointment | None = None


class Engine(Protocol):
    def respond(
        self,
        *,
        conversation: Conversation,
        text: str,
        language: str | None,
        caller: tools.Caller,
        now: datetime.datetime,
    ) -> Reply: ...


def entities_of(understanding: Understanding) -> dict[str, Any]:
    """The entities as stored and answered: never the phone or the patient's own words."""
    data = dict(understanding.entities())
    data.pop("phone", None)
    if isinstance(data.get("when"), dict):
        data["when"].pop("text", None)
    return data


def said_digest(text: str) -> str | None:
    """A keyed digest of a message of three words or more (the state keeps no words): two
    equal digests are the same message written again."""
    words = tokens(text)
    if len(words) < 3:
        return None
    return hmac.new(
        settings.BLIND_INDEX_KEY, ("said\x1f" + " ".join(words)).encode(), hashlib.sha256
    ).hexdigest()[:32]


def emergency_text() -> str:
    return _(
        "If this is an emergency, call 103 (ambulance) or 112 now. I cannot give medical "
        "advice in a chat."
    )


def slot_label(slot_id: str) -> str:
    target = tools.slot_target(slot_id)
    local = target.start.astimezone(target.clinic.tz)
    return _("%(day)s, %(time)s — %(doctor)s, %(clinic)s") % {
        "day": day_label(local.date(), with_year=False),
        "time": time_label(local),
        "doctor": str(target.doctor),
        "clinic": target.clinic.name,
    }


def visit_label(visit: Appointment) -> str:
    local = visit.starts_at.astimezone(visit.clinic.tz)
    return _("%(day)s, %(time)s — %(service)s, %(clinic)s") % {
        "day": day_label(local.date(), with_year=False),
        "time": time_label(local),
        "service": visit.service.name,
        "clinic": visit.clinic.name,
    }


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{index}. {line}" for index, line in enumerate(lines, 1))


class Turn:
    """One message worked through against the conversation's state (what the flows share)."""

    def __init__(self, conversation, caller, u, now, tz, text):
        self.text = text
        self.conversation = conversation
        self.caller = caller
        self.u = u
        self.now = now
        self.tz = tz
        self.state: dict[str, Any] = dict(conversation.state or {})
        self.reply = Reply(
            text="", intent=u.intent, confidence=u.confidence, entities=entities_of(u)
        )
        self.said = said_digest(text)

    @property
    def repeated(self) -> bool:
        """The patient wrote again the words the last answer missed (answered without a
        result: nothing found, done or offered)."""
        return self.said is not None and self.said == self.state.get("unanswered")

    def say(self, text: str, **extra) -> Reply:
        self.reply.text = text
        for key, value in extra.items():
            setattr(self.reply, key, value)
        missed = not (self.reply.resolved or self.reply.actions or self.reply.offers)
        if missed and self.said is not None:
            self.state["unanswered"] = self.said
        else:
            self.state.pop("unanswered", None)
        self.conversation.state = self.state
        return self.reply

    # --- Handoff -------------------------------------------------------------------------------

    def handoff(self, reason: str) -> Reply:
        self.state.pop("pending", None)
        self.reply.intent = "handoff"
        return self.say(
            _(
                "I am passing our conversation to an operator: they will answer here and see "
                "everything you wrote, so there is no need to repeat it."
            ),
            handoff_reason=reason,
            actions=["handed_over"],
        )

    def ask_to_confirm(self, pending: dict[str, Any], question: str) -> Reply:
        self.state["pending"] = pending
        return self.say(question + " " + _("Please answer “yes” or “no”."))

    # --- Choosing among offers -----------------------------------------------------------------

    def picked(self, options: list[str], times: list[str] | None = None) -> str | None:
        """The option the patient chose by number or by its time ("в 10:30"), if any."""
        u = self.u
        if u.choice is not None and 1 <= u.choice <= len(options):
            return options[u.choice - 1]
        if u.choice_time is not None and times:
            wanted = u.choice_time.strftime("%H:%M")
            for option, label in zip(options, times, strict=False):
                if label == wanted:
                    return option
        return None

    def offer(self, slots: list[Slot], intro: str) -> Reply:
        ids = [slot.slot_id for slot in slots]
        self.state["offers"] = ids
        self.state["offer_times"] = [time_label(slot.start) for slot in slots]
        doctors = {d.pk: d for d in Doctor.objects.filter(pk__in={s.doctor_id for s in slots})}
        clinics = {c.pk: c for c in Clinic.objects.filter(pk__in={s.clinic_id for s in slots})}
        lines = [
            _("%(day)s, %(time)s — %(doctor)s, %(clinic)s")
            % {
                "day": day_label(slot.start.date(), with_year=False),
                "time": time_label(slot.start),
                "doctor": str(doctors[slot.doctor_id]),
                "clinic": clinics[slot.clinic_id].name,
            }
            for slot in slots
        ]
        return self.say(
            intro + "\n" + numbered(lines) + "\n" + _("Which one suits you? Name its number."),
            offers=slots,
            actions=["searched"],
        )

    def when_range(self) -> tuple[datetime.date, datetime.date | None, Any, Any] | None:
        when = self.state.get("when")
        if not when or not when.get("date_from"):
            return None
        date_from = max(
            datetime.date.fromisoformat(when["date_from"]), self.now.astimezone(self.tz).date()
        )
        date_to = datetime.date.fromisoformat(when["date_to"]) if when.get("date_to") else None
        time_from = (
            datetime.time.fromisoformat(when["time_from"]) if when.get("time_from") else None
        )
        time_to = datetime.time.fromisoformat(when["time_to"]) if when.get("time_to") else None
        return date_from, date_to, time_from, time_to
