"""The patient's “yes” or “no” to a held slot, a move or a cancellation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, Turn, visit_label
from scheduling.errors import BookingError


class ConfirmationTurn(Turn):
    """The pending action carried out (or dropped) on the patient's answer."""

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
