"""The patient's “yes” or “no” to a held slot, a move or a cancellation."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, Turn, visit_label
from portal.models import Clinic
from scheduling.errors import BookingError
from scheduling.models import Service


class ConfirmationTurn(Turn):
    """The pending action carried out (or dropped) on the patient's answer."""

    def confirm(self, pending: dict[str, Any], yes: bool) -> Reply:
        self.state.pop("pending", None)
        self.reply.intent = {
            "book": "book",
            "request": "book",
            "move": "reschedule",
            "cancel": "cancel",
        }.get(pending["action"], "unknown")
        if not yes:
            tools.hold_drop(caller=self.caller, hold_id=pending.get("hold"))
            return self.say(_("All right, I have not changed anything. Choose another time?"))
        try:
            if pending["action"] == "request":
                return self.leave_request(pending)
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

    def leave_request(self, pending: dict[str, Any]) -> Reply:
        """A booking request for the patient; an anonymous visitor's goes to the clinic as a
        callback lead (a request needs a patient profile), so their phone is asked for."""
        service = Service.objects.filter(pk=pending["service"], is_active=True).first()
        clinic = Clinic.objects.filter(pk=pending["clinic"], is_active=True).first()
        if service is None or clinic is None:
            return self.say(_("That service is no longer offered there. Shall I look again?"))
        if self.caller.patient is None:
            self.state = {"flow": "callback", "request": pending}
            return self.say(
                _(
                    "Leave your phone number and the clinic will call you back to agree the "
                    "time. Or sign in, and I will leave the request in your account."
                )
            )
        patient = tools.patient_for(self.caller, self.state.get("for_whom"))
        if patient is None:
            return self.say(_("I did not find that family member in your profile."))
        tools.booking_request_leave(
            caller=self.caller,
            patient=patient,
            service=service,
            clinic=clinic,
            date_from=datetime.date.fromisoformat(pending["from"]),
            date_to=datetime.date.fromisoformat(pending["to"]),
            part=pending["part"],
        )
        self.state = {}
        return self.say(
            _(
                "Done: your request for %(service)s at %(clinic)s is sent. This is a request, "
                "not yet a booking: the clinic will confirm a time and let you know."
            )
            % {"service": service.name, "clinic": clinic.name},
            actions=["request_left"],
            resolved=True,
        )
