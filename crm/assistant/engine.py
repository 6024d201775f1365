"""The conversation engine: reads a message, keeps the dialogue's state, calls tools.

`Engine` is the interface a backend implements (the embedded one here; an OpenAI-compatible
chat-completions backend plugs in beside it). A backend only decides what to say and which
tool to call: the tools (`crm.assistant.tools`) do everything with the caller's permissions,
and a slot is booked only after a tool returned it in this conversation and the patient said
"yes" to it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.knowledge import knowledge_search
from crm.assistant.understanding import Understanding, understand
from crm.models import Conversation
from crm.selectors.assistant_vocabulary import vocabulary_load
from portal.formatting import day_label, time_label
from portal.models import Clinic
from scheduling.errors import BookingError
from scheduling.models import Appointment, Doctor
from scheduling.selectors.availability import Slot

LOW_CONFIDENCE = 0.5
MISSES_BEFORE_HANDOFF = 2
FLOWS = ("book", "reschedule", "cancel", "callback")


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


def _entities(understanding: Understanding) -> dict[str, Any]:
    """The entities as stored and answered: never the phone or the patient's own words."""
    data = dict(understanding.entities())
    data.pop("phone", None)
    if isinstance(data.get("when"), dict):
        data["when"].pop("text", None)
    return data


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


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{index}. {line}" for index, line in enumerate(lines, 1))


class EmbeddedEngine:
    """Keyword/morphology understanding and a state machine, no network needed."""

    def respond(self, *, conversation, text, language, caller, now):
        tz = (
            conversation.clinic.tz
            if conversation.clinic_id
            else ZoneInfo(settings.DISPLAY_TIME_ZONE)
        )
        u = understand(
            text,
            language=language or conversation.language,
            vocabulary=vocabulary_load(),
            now=now,
            tz=tz,
        )
        turn = _Turn(conversation, caller, u, now, tz, text)
        return turn.run()


class _Turn:
    """One message worked through against the conversation's state."""

    def __init__(self, conversation, caller, u, now, tz, text):
        self.text = text
        self.conversation = conversation
        self.caller = caller
        self.u = u
        self.now = now
        self.tz = tz
        self.state: dict[str, Any] = dict(conversation.state or {})
        self.reply = Reply(text="", intent=u.intent, confidence=u.confidence, entities=_entities(u))

    def say(self, text: str, **extra) -> Reply:
        self.reply.text = text
        for key, value in extra.items():
            setattr(self.reply, key, value)
        self.conversation.state = self.state
        return self.reply

    # --- Dispatch ------------------------------------------------------------------------------

    def run(self) -> Reply:
        u = self.u
        if u.intent == "emergency":
            self.state.pop("pending", None)
            return self.say(emergency_text())
        if u.intent == "handoff":
            return self.handoff("asked")
        pending = self.state.get("pending")
        if pending and u.answer and u.intent == "unknown":
            return self.confirm(pending, u.answer == "yes")
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

    # --- Confirmations -------------------------------------------------------------------------

    def confirm(self, pending: dict[str, Any], yes: bool) -> Reply:
        self.state.pop("pending", None)
        self.reply.intent = {"book": "book", "move": "reschedule", "cancel": "cancel"}.get(
            pending["action"], "unknown"
        )
        if not yes:
            tools.hold_drop(caller=self.caller, hold_id=pending.get("hold"))
            return self.say(_("All right, I have not changed anything. Choose another time?"))
        try:
            if pending["action"] == "book":
                patient = tools.patient_for(self.caller, pending.get("for_whom"))
                if patient is None:
                    return self.say(_("Please sign in to book."))
                booked = tools.visit_book(
                    conversation=self.conversation,
                    caller=self.caller,
                    slot_id=pending["slot"],
                    patient=patient,
                    hold_id=pending.get("hold"),
                )
                self.state = {}
                return self.say(
                    _("Done: you are booked for %(visit)s. We will send a reminder.")
                    % {"visit": visit_label(booked)},
                    actions=["booked"],
                    resolved=True,
                    booked=booked,
                )
            visit = tools.visit_of(self.caller, pending.get("visit"))
            if visit is None:
                return self.say(_("I could not find that visit among your upcoming ones."))
            if pending["action"] == "move":
                moved = tools.visit_move(
                    conversation=self.conversation,
                    caller=self.caller,
                    appointment=visit,
                    slot_id=pending["slot"],
                )
                self.state = {}
                return self.say(
                    _("Done: your visit is moved to %(visit)s.") % {"visit": visit_label(moved)},
                    actions=["rescheduled"],
                    resolved=True,
                )
            tools.visit_cancel(caller=self.caller, appointment=visit)
            self.state = {}
            return self.say(
                _("Done: the visit of %(visit)s is cancelled.") % {"visit": visit_label(visit)},
                actions=["cancelled"],
                resolved=True,
            )
        except BookingError as error:
            self.state.pop("offers", None)
            return self.say(
                _("That did not work: %(reason)s Shall I look for other times?")
                % {"reason": error.message}
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
            intro + "\n" + _numbered(lines) + "\n" + _("Which one suits you? Name its number."),
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

    # --- Flows ---------------------------------------------------------------------------------

    def book(self) -> Reply:
        state = self.state
        chosen = self.picked(state.get("offers", []), state.get("offer_times"))
        if chosen is not None:
            return self.book_chosen(chosen)
        if state.get("offers") and (self.u.choice or self.u.choice_time):
            return self.say(
                _(
                    "That time is not among the ones I offered. Please choose one of them by its "
                    "number."
                )
            )
        services = tools.services_for(
            service_ids=state.get("service_ids", ()), specialty_ids=state.get("specialty_ids", ())
        )
        if not services:
            if state.get("specialty_ids") or state.get("service_ids"):
                return self.say(
                    _(
                        "Online booking is not open for that. Leave your phone number and the "
                        "clinic will call you back."
                    )
                )
            return self.say(_("Which doctor or service would you like to book?"))
        window = self.when_range()
        if window is None:
            return self.say(_("For which day? For example: “tomorrow morning” or “on Friday”."))
        date_from, date_to, time_from, time_to = window
        doctors = Doctor.objects.filter(pk__in=state.get("doctor_ids", ()))
        slots = tools.slots_find(
            service=services[0],
            doctor=doctors.first(),
            date_from=date_from,
            date_to=date_to,
            time_from=time_from,
            time_to=time_to,
        )
        if not slots:
            # Nothing that day: look at the two weeks after it before giving up.
            slots = tools.slots_find(
                service=services[0],
                doctor=doctors.first(),
                date_from=date_from,
                time_from=time_from,
                time_to=time_to,
            )
            if not slots:
                return self.say(
                    _(
                        "I found no free times for %(service)s in the next two weeks. Leave your "
                        "phone number and the clinic will call you back."
                    )
                    % {"service": services[0].name}
                )
            return self.offer(slots, _("That day is taken; the nearest free times:"))
        return self.offer(slots, _("Free times for %(service)s:") % {"service": services[0].name})

    def book_chosen(self, slot_id: str) -> Reply:
        if not self.caller.may_book:
            self.state["flow"] = "callback"
            return self.say(
                _(
                    "To book, please sign in to your account; the time is shown there too. Or "
                    "leave your phone number and the clinic will call you back."
                )
            )
        relation = self.state.get("for_whom")
        patient = tools.patient_for(self.caller, relation)
        if patient is None:
            return self.say(
                _(
                    "I did not find that family member in your profile. Add them under "
                    "“Family” in your account, or tell me whom to book for."
                )
            )
        try:
            hold = tools.slot_hold(
                conversation=self.conversation,
                caller=self.caller,
                slot_id=slot_id,
                patient=patient,
            )
        except BookingError as error:
            self.state.pop("offers", None)
            return self.say(
                _("That time cannot be booked: %(reason)s Shall I look again?")
                % {"reason": error.message}
            )
        self.reply.actions = ["held"]
        whom = (
            ""
            if patient.pk == self.caller.patient.pk
            else " " + _("(for %(name)s)") % {"name": patient.first_name}
        )
        return self.ask_to_confirm(
            {"action": "book", "slot": slot_id, "hold": str(hold.public_id), "for_whom": relation},
            _("Book %(slot)s%(whom)s?") % {"slot": slot_label(slot_id), "whom": whom},
        )

    def choose_visit(self, verb: str) -> Appointment | Reply:
        if not self.caller.may_book:
            return self.say(_("Please sign in to your account to see and change your visits."))
        visits = tools.visits_upcoming(self.caller)
        if not visits:
            self.state = {}
            return self.say(_("You have no upcoming visits."))
        chosen_id = self.state.get("visit")
        if chosen_id is None and len(visits) == 1:
            chosen_id = str(visits[0].public_id)
        if chosen_id is None:
            chosen_id = self.picked(self.state.get("visits", []))
            if chosen_id is not None:
                self.u = _without_choice(self.u)
        if chosen_id is None:
            self.state["visits"] = [str(v.public_id) for v in visits]
            return self.say(
                verb
                + "\n"
                + _numbered([visit_label(v) for v in visits])
                + "\n"
                + _("Name its number.")
            )
        self.state["visit"] = chosen_id
        visit = tools.visit_of(self.caller, chosen_id)
        if visit is None:
            self.state.pop("visit", None)
            return self.say(_("I could not find that visit among your upcoming ones."))
        return visit

    def reschedule(self) -> Reply:
        visit = self.choose_visit(_("Which visit shall I move?"))
        if isinstance(visit, Reply):
            return visit
        chosen = self.picked(self.state.get("offers", []), self.state.get("offer_times"))
        if chosen is not None:
            return self.ask_to_confirm(
                {"action": "move", "slot": chosen, "visit": str(visit.public_id)},
                _("Move your visit of %(old)s to %(new)s?")
                % {"old": visit_label(visit), "new": slot_label(chosen)},
            )
        window = self.when_range()
        if window is None:
            return self.say(
                _("To which day shall I move your visit of %(visit)s?")
                % {"visit": visit_label(visit)}
            )
        date_from, date_to, time_from, time_to = window
        slots = tools.slots_find(
            service=visit.service,
            clinic=visit.clinic,
            date_from=date_from,
            date_to=date_to,
            time_from=time_from,
            time_to=time_to,
        )
        if not slots:
            return self.say(_("There are no free times then. Another day?"))
        return self.offer(slots, _("Free times for %(service)s:") % {"service": visit.service.name})

    def cancel(self) -> Reply:
        visit = self.choose_visit(_("Which visit shall I cancel?"))
        if isinstance(visit, Reply):
            return visit
        return self.ask_to_confirm(
            {"action": "cancel", "visit": str(visit.public_id)},
            _("Cancel your visit of %(visit)s?") % {"visit": visit_label(visit)},
        )

    def callback(self) -> Reply:
        phone = self.u.phone or (self.caller.patient.phone if self.caller.patient else "")
        if not phone:
            self.state["flow"] = "callback"
            return self.say(_("Leave your phone number and the clinic will call you back."))
        tools.callback_request(
            caller=self.caller,
            phone=phone,
            clinic=self.conversation.clinic,
            comment=_("Callback requested in the assistant chat."),
        )
        self.state = {}
        self.reply.intent = "callback"
        return self.say(
            _("Thank you: the clinic will call you back during opening hours."),
            actions=["callback_requested"],
            resolved=True,
        )

    def my_visits(self) -> Reply:
        if not self.caller.may_book:
            return self.say(_("Please sign in to your account to see your visits."))
        visits = tools.visits_upcoming(self.caller)
        if not visits:
            return self.say(_("You have no upcoming visits."))
        return self.say(
            _("Your upcoming visits:") + "\n" + _numbered([visit_label(v) for v in visits]),
            resolved=True,
        )

    def knowledge(self, fallback: str) -> Reply:
        hits = knowledge_search(
            query=self.text,
            language=self.u.language,
            clinic_id=self.conversation.clinic_id,
        )
        if hits:
            hit = hits[0]
            return self.say(
                _("%(answer)s\nSource: %(title)s %(url)s")
                % {"answer": hit.snippet, "title": hit.title, "url": hit.url},
                actions=["knowledge"],
                resolved=True,
            )
        return self.say(fallback)

    def doctor_info(self) -> Reply:
        doctors = tools.doctors_for(
            specialty_ids=self.state.get("specialty_ids", ()),
            doctor_ids=self.state.get("doctor_ids", ()),
        )
        if doctors:
            return self.say(
                _("Our doctors:")
                + "\n"
                + _numbered([str(d) for d in doctors])
                + "\n"
                + _("Shall I find a free time?"),
                resolved=True,
            )
        return self.knowledge(_("Which specialist are you looking for?"))

    def price(self) -> Reply:
        services = tools.services_for(
            service_ids=self.state.get("service_ids", ()),
            specialty_ids=self.state.get("specialty_ids", ()),
        )[:5]
        if services:
            return self.say(
                _("Prices:") + "\n" + _numbered([f"{s.name} — {s.price:.0f} ₽" for s in services]),
                resolved=True,
            )
        return self.knowledge(_("Which service would you like to know the price of?"))

    def preparation(self) -> Reply:
        services = [
            s
            for s in tools.services_for(service_ids=self.state.get("service_ids", ()))
            if s.preparation
        ]
        if services:
            return self.say(f"{services[0].name}: {services[0].preparation}", resolved=True)
        return self.knowledge(_("For which examination do you need the preparation?"))

    def directions(self) -> Reply:
        hits = knowledge_search(
            query=self.text, language=self.u.language, clinic_id=self.conversation.clinic_id
        )
        if hits:
            return self.knowledge("")
        clinics = tools.clinics_for(clinic_ids=self.state.get("clinic_ids", ()), city=self.u.city)
        lines = [
            f"{c.name}: {c.city}, {c.address}"
            + (f" ({c.opening_hours})" if c.opening_hours else "")
            for c in clinics[:10]
        ]
        return self.say(_("Our clinics:") + "\n" + _numbered(lines), resolved=True)

    def smalltalk(self) -> Reply:
        return self.say(
            _(
                "I am the clinic's assistant and can only help with visits: booking, moving or "
                "cancelling, prices, addresses and preparation for examinations."
            )
        )


def _without_choice(u: Understanding) -> Understanding:
    """The number that picked a visit must not also pick a time."""
    return replace(u, choice=None, choice_time=None)
