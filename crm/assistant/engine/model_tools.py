"""The tools a chat-completions model may call, and what each does.

Every tool runs through `crm.assistant.tools` with the caller's own permissions, so a model
can ask for nothing the caller could not do by hand. Arguments are checked here and a bad one
comes back to the model as `{"error": ...}`. The tools that would change something (hold a
slot for booking, move or cancel a visit, hand over) end the turn with the engine's own words:
the patient is asked to confirm, and only their "yes" (read by the guards, not by the model)
carries it out. A slot can be held only after an earlier turn offered it (`require_offered`).
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, slot_label, visit_label
from crm.assistant.engine.chat_client import ToolCall
from crm.assistant.engine.embedded import EmbeddedTurn
from crm.assistant.knowledge import knowledge_search
from crm.assistant.understanding import understand
from crm.selectors.assistant_vocabulary import vocabulary_load
from portal.formatting import day_label, time_label
from scheduling.choices import DayPart
from scheduling.errors import BookingError
from scheduling.models import Doctor, Service
from scheduling.selectors.availability import Slot

MAX_RANGE_DAYS = 31


def _function(name: str, description: str, properties: dict, required=()) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(required),
                "additionalProperties": False,
            },
        },
    }


_STRING = {"type": "string"}
_DATE = {"type": "string", "description": "YYYY-MM-DD"}
_TIME = {"type": "string", "description": "HH:MM, the clinic's local time"}
TOOL_SCHEMAS: list[dict[str, Any]] = [
    _function(
        "search_catalogue",
        "Find services (with prices and preparation) and doctors by what the patient named.",
        {"query": _STRING},
        ["query"],
    ),
    _function(
        "find_free_slots",
        "Free times for a service; the patient then chooses one in their next message.",
        {
            "service_id": _STRING,
            "date_from": _DATE,
            "date_to": _DATE,
            "time_from": _TIME,
            "time_to": _TIME,
            "doctor_id": _STRING,
        },
        ["service_id", "date_from"],
    ),
    _function(
        "hold_slot",
        "Hold a slot the patient chose from those offered in an earlier message and ask them "
        "to confirm the booking. for_whom: self, child, son, daughter, mother, father, spouse.",
        {"slot_id": _STRING, "for_whom": _STRING},
        ["slot_id"],
    ),
    _function(
        "leave_booking_request",
        "Where no free time fits or the clinic books on request: ask the patient to confirm "
        "leaving a booking request for a service on preferred days (part: any, morning, "
        "afternoon, evening).",
        {"service_id": _STRING, "date_from": _DATE, "date_to": _DATE, "part": _STRING},
        ["service_id", "date_from"],
    ),
    _function("list_my_visits", "The caller's upcoming visits.", {}),
    _function(
        "propose_move",
        "Ask the patient to confirm moving one of their visits to an offered slot.",
        {"visit_id": _STRING, "slot_id": _STRING},
        ["visit_id", "slot_id"],
    ),
    _function(
        "propose_cancel",
        "Ask the patient to confirm cancelling one of their visits.",
        {"visit_id": _STRING},
        ["visit_id"],
    ),
    _function(
        "search_knowledge",
        "Articles of the clinic's knowledge base (preparation, documents, rules).",
        {"query": _STRING},
        ["query"],
    ),
    _function("list_clinics", "Clinic addresses and opening hours.", {"city": _STRING}),
    _function(
        "request_callback",
        "Leave the patient's phone for a callback (the phone they wrote or their profile's).",
        {},
    ),
    _function("handoff_to_operator", "Pass the conversation to a human operator.", {}),
]
INTENT_OF_TOOL = {
    "find_free_slots": "book",
    "hold_slot": "book",
    "leave_booking_request": "book",
    "list_my_visits": "my_visits",
    "propose_move": "reschedule",
    "propose_cancel": "cancel",
    "list_clinics": "directions",
    "request_callback": "callback",
    "handoff_to_operator": "handoff",
}


class BadArguments(Exception):
    """A tool call whose arguments do not fit the tool."""


def _date(value: Any, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise BadArguments(f"{name} must be a date as YYYY-MM-DD") from exc


def _time(value: Any, name: str) -> datetime.time | None:
    if value in (None, ""):
        return None
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError as exc:
        raise BadArguments(f"{name} must be a time as HH:MM") from exc


class ModelTurn(EmbeddedTurn):
    """One message answered by a model: its tool calls carried out for the caller."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.found: list[Slot] = []
        # Everything the tools said this turn: a time in the model's reply must come from here.
        self.tool_texts: list[str] = []
        self.tool_intent: str | None = None

    def call(self, call: ToolCall) -> str | Reply:
        """The tool's result as JSON for the model, or the turn's final reply."""
        if call.name not in TOOL_NAMES:
            return self.result({"error": "unknown_tool"})
        handler = getattr(self, f"tool_{call.name}")
        try:
            arguments = json.loads(call.arguments or "{}")
            if not isinstance(arguments, dict):
                raise BadArguments("arguments must be a JSON object")
            outcome = handler(**{k: v for k, v in arguments.items() if isinstance(k, str)})
        except (ValueError, TypeError, BadArguments) as exc:
            detail = str(exc) if isinstance(exc, BadArguments) else "arguments do not fit the tool"
            return self.result({"error": "invalid_arguments", "detail": detail})
        except BookingError as exc:
            return self.result({"error": exc.code, "detail": str(exc.message)})
        self.tool_intent = INTENT_OF_TOOL.get(call.name, self.tool_intent)
        return outcome if isinstance(outcome, Reply) else self.result(outcome)

    def result(self, data: Any) -> str:
        text = json.dumps(data, ensure_ascii=False, default=str)
        self.tool_texts.append(text)
        return text

    # --- Reading -------------------------------------------------------------------------------

    def tool_search_catalogue(self, query: str) -> dict:
        u = understand(
            str(query)[:200],
            language=self.u.language,
            vocabulary=vocabulary_load(),
            now=self.now,
            tz=self.tz,
        )
        services = tools.services_for(service_ids=u.service_ids, specialty_ids=u.specialty_ids)
        doctors = tools.doctors_for(specialty_ids=u.specialty_ids, doctor_ids=u.doctor_ids)
        return {
            "services": [
                {
                    "service_id": str(s.public_id),
                    "name": s.name,
                    "specialty": s.specialty.name,
                    "price_rub": f"{s.price:.0f}",
                    "preparation": s.preparation or "",
                }
                for s in services[:8]
            ],
            "doctors": [{"doctor_id": str(d.public_id), "name": str(d)} for d in doctors[:8]],
        }

    def tool_find_free_slots(
        self,
        service_id: str,
        date_from: str,
        date_to: str | None = None,
        time_from: str | None = None,
        time_to: str | None = None,
        doctor_id: str | None = None,
    ) -> dict:
        service = _by_public_id(Service.objects.filter(is_active=True), service_id, "service_id")
        doctor = (
            _by_public_id(Doctor.objects.filter(is_active=True), doctor_id, "doctor_id")
            if doctor_id
            else None
        )
        today = self.now.astimezone(self.tz).date()
        first = max(_date(date_from, "date_from"), today)
        last = _date(date_to, "date_to") if date_to else None
        if last is not None and not first <= last <= first + datetime.timedelta(MAX_RANGE_DAYS):
            raise BadArguments(f"date_to must be within {MAX_RANGE_DAYS} days after date_from")
        slots = tools.slots_find(
            service=service,
            doctor=doctor,
            date_from=first,
            date_to=last,
            time_from=_time(time_from, "time_from"),
            time_to=_time(time_to, "time_to"),
        )
        self.found = slots
        self.state["offers"] = [slot.slot_id for slot in slots]
        self.state["offer_times"] = [time_label(slot.start) for slot in slots]
        return {
            "slots": [
                {
                    "number": index,
                    "slot_id": slot.slot_id,
                    "day": day_label(slot.start.date(), with_year=False),
                    "time": time_label(slot.start),
                }
                for index, slot in enumerate(slots, 1)
            ],
            "note": "The slots are listed to the patient under your words; they choose next.",
        }

    def tool_list_my_visits(self) -> dict:
        if not self.caller.may_book:
            return {"error": "sign_in_required"}
        return {
            "visits": [
                {"visit_id": str(v.public_id), "label": visit_label(v)}
                for v in tools.visits_upcoming(self.caller)
            ]
        }

    def tool_search_knowledge(self, query: str) -> dict:
        hits = knowledge_search(
            query=str(query)[:200],
            language=self.u.language,
            clinic_id=self.conversation.clinic_id,
        )
        return {
            "articles": [{"title": h.title, "text": h.snippet, "url": h.url} for h in hits],
            "note": "Cite the article's title and url.",
        }

    def tool_list_clinics(self, city: str | None = None) -> dict:
        clinics = tools.clinics_for(city=str(city) if city else None)[:10]
        return {
            "clinics": [
                {
                    "name": c.name,
                    "city": c.city,
                    "address": c.address,
                    "hours": c.opening_hours,
                    "phone": c.phone,
                }
                for c in clinics
            ]
        }

    # --- Acting: the engine's own words end the turn -----------------------------------------

    def tool_hold_slot(self, slot_id: str, for_whom: str | None = None) -> Reply | dict:
        if not self.caller.may_book:
            return {"error": "sign_in_required", "detail": "Offer a callback instead."}
        tools.require_offered(self.conversation, str(slot_id))
        self.state["for_whom"] = str(for_whom) if for_whom else self.state.get("for_whom")
        reply = self.book_chosen(str(slot_id))
        if self.reply.actions != ["held"]:
            return {"error": "not_held", "detail": reply.text}
        return reply

    def tool_leave_booking_request(
        self,
        service_id: str,
        date_from: str,
        date_to: str | None = None,
        part: str | None = None,
    ) -> Reply | dict:
        service = _by_public_id(Service.objects.filter(is_active=True), service_id, "service_id")
        first = max(_date(date_from, "date_from"), self.now.astimezone(self.tz).date())
        last = _date(date_to, "date_to") if date_to else None
        if last is not None and last < first:
            raise BadArguments("date_to must not be before date_from")
        part = part or DayPart.ANY
        if part not in DayPart.values:
            raise BadArguments("part must be one of any, morning, afternoon, evening")
        offered = self.offer_request(service, first, last or first, part)
        if offered is None:
            return {"error": "no_request_clinic", "detail": "Offer request_callback instead."}
        return offered

    def tool_propose_move(self, visit_id: str, slot_id: str) -> Reply | dict:
        visit = tools.visit_of(self.caller, str(visit_id))
        if visit is None:
            return {"error": "not_found", "detail": "No such upcoming visit of this caller."}
        tools.require_offered(self.conversation, str(slot_id))
        return self.ask_to_confirm(
            {"action": "move", "slot": str(slot_id), "visit": str(visit.public_id)},
            _("Move your visit of %(old)s to %(new)s?")
            % {"old": visit_label(visit), "new": slot_label(str(slot_id))},
        )

    def tool_propose_cancel(self, visit_id: str) -> Reply | dict:
        visit = tools.visit_of(self.caller, str(visit_id))
        if visit is None:
            return {"error": "not_found", "detail": "No such upcoming visit of this caller."}
        return self.ask_to_confirm(
            {"action": "cancel", "visit": str(visit.public_id)},
            _("Cancel your visit of %(visit)s?") % {"visit": visit_label(visit)},
        )

    def tool_request_callback(self) -> Reply:
        return self.callback()

    def tool_handoff_to_operator(self) -> Reply:
        return self.handoff("asked")


TOOL_NAMES = frozenset(schema["function"]["name"] for schema in TOOL_SCHEMAS)


def _by_public_id(queryset, value: Any, name: str):
    try:
        public_id = uuid.UUID(str(value))
    except ValueError as exc:
        raise BadArguments(f"{name} is not an id a tool returned") from exc
    found = queryset.filter(public_id=public_id).first()
    if found is None:
        raise BadArguments(f"{name} is not an id a tool returned")
    return found
