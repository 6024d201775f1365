"""The embedded engine: keyword/morphology understanding and a state machine."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from crm.assistant.engine.answers import AnswersTurn
from crm.assistant.engine.base import Reply, emergency_text
from crm.assistant.engine.booking import BookingTurn
from crm.assistant.engine.confirmation import ConfirmationTurn
from crm.assistant.engine.visits import VisitsTurn
from crm.assistant.understanding import understand
from crm.selectors.assistant_vocabulary import vocabulary_load

LOW_CONFIDENCE = 0.5
MISSES_BEFORE_HANDOFF = 2
FLOWS = ("book", "reschedule", "cancel", "callback")


class EmbeddedEngine:
    """Keyword/morphology understanding and a state machine, no network needed."""

    def respond(self, *, conversation, text, language, caller, now):
        u, tz = read_message(conversation=conversation, text=text, language=language, now=now)
        turn = EmbeddedTurn(conversation, caller, u, now, tz, text)
        return turn.run()


def read_message(*, conversation, text, language, now):
    """The embedded reading of a message and the time zone its dates are in (every engine
    starts from it: the guards below any model use it)."""
    tz = conversation.clinic.tz if conversation.clinic_id else ZoneInfo(settings.DISPLAY_TIME_ZONE)
    u = understand(
        text,
        language=language or conversation.language,
        vocabulary=vocabulary_load(),
        now=now,
        tz=tz,
    )
    return u, tz


class EmbeddedTurn(BookingTurn, VisitsTurn, ConfirmationTurn, AnswersTurn):
    """One message: dispatched to its flow, the dialogue's slots filled from it."""

    def guarded(self) -> Reply | None:
        """What no engine leaves to a model: an emergency gets the fixed safety message, a
        request for a person is handed over, and a pending booking, move or cancellation is
        carried out only on the patient's own "yes". An unhappy patient (complaint or
        frustration words, or the same words written again after an answer that missed them)
        is handed over too, with that reason for the operator."""
        u = self.u
        if u.intent == "emergency":
            self.state.pop("pending", None)
            return self.say(emergency_text())
        if u.unhappy or self.repeated:
            return self.handoff("unhappy")
        if u.intent == "handoff":
            return self.handoff("asked")
        pending = self.state.get("pending")
        if pending and u.answer and u.intent == "unknown":
            return self.confirm(pending, u.answer == "yes")
        return None

    def run(self) -> Reply:
        u = self.u
        guarded = self.guarded()
        if guarded is not None:
            return guarded
        if u.intent == "unknown" and u.confidence < LOW_CONFIDENCE:
            self.state["misses"] = self.state.get("misses", 0) + 1
            if self.state["misses"] >= MISSES_BEFORE_HANDOFF:
                return self.handoff("low_confidence")
            return self.say(
                _(
                    "Sorry, I did not understand. I can book, move or cancel a visit, tell you "
                    "prices, addresses and how to prepare for an examination. Could you say it "
                    "another way?"
                )
            )
        self.state["misses"] = 0
        if u.intent in FLOWS and u.intent != self.state.get("flow"):
            self.state = {"flow": u.intent}
        self.remember()
        flow = u.intent if u.intent in FLOWS else None
        if u.intent == "unknown":
            flow = self.state.get("flow")
            self.reply.intent = flow or "unknown"
        handlers = {
            "book": self.book,
            "reschedule": self.reschedule,
            "cancel": self.cancel,
            "callback": self.callback,
            "my_visits": self.my_visits,
            "doctor_info": self.doctor_info,
            "price": self.price,
            "preparation": self.preparation,
            "directions": self.directions,
            "smalltalk": self.smalltalk,
        }
        handler = handlers.get(flow or u.intent)
        if handler is None:
            return self.say(_("How can I help? I can book, move or cancel a visit."))
        return handler()

    def remember(self) -> None:
        """Fill the dialogue's slots from this message (nothing said is asked again)."""
        u, state = self.u, self.state
        for name in ("specialty_ids", "service_ids", "doctor_ids", "clinic_ids"):
            if getattr(u, name):
                state[name] = list(getattr(u, name))
        if u.when is not None:
            state["when"] = {
                key: None if value is None else value.isoformat()
                for key, value in (
                    ("date_from", u.when.date_from),
                    ("date_to", u.when.date_to),
                    ("time_from", u.when.time_from),
                    ("time_to", u.when.time_to),
                )
            }
        if u.for_whom:
            state["for_whom"] = u.for_whom
