"""The patient's upcoming visits: listing, moving and cancelling one."""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, Turn, numbered, slot_label, visit_label
from crm.assistant.understanding import Understanding
from scheduling.models import Appointment


class VisitsTurn(Turn):
    """The caller's upcoming visits: listed, one chosen, moved or cancelled."""

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
                + numbered([visit_label(v) for v in visits])
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

    def my_visits(self) -> Reply:
        if not self.caller.may_book:
            return self.say(_("Please sign in to your account to see your visits."))
        visits = tools.visits_upcoming(self.caller)
        if not visits:
            return self.say(_("You have no upcoming visits."))
        return self.say(
            _("Your upcoming visits:") + "\n" + numbered([visit_label(v) for v in visits]),
            resolved=True,
        )


def _without_choice(u: Understanding) -> Understanding:
    """The number that picked a visit must not also pick a time."""
    return replace(u, choice=None, choice_time=None)
