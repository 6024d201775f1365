"""The booking dialogue: what and when, free times offered, the chosen one held."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, Turn, slot_label
from portal.formatting import day_label
from scheduling.choices import DayPart
from scheduling.errors import BookingError
from scheduling.models import Doctor, Service


class BookingTurn(Turn):
    """Booking: what and when, then the chosen time held until the patient says “yes”."""

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
                request = self.offer_request(
                    services[0], date_from, date_to, day_part(time_from, time_to)
                )
                if request is not None:
                    return request
                return self.say(
                    _(
                        "I found no free times for %(service)s in the next two weeks. Leave your "
                        "phone number and the clinic will call you back."
                    )
                    % {"service": services[0].name}
                )
            return self.offer(slots, _("That day is taken; the nearest free times:"))
        return self.offer(slots, _("Free times for %(service)s:") % {"service": services[0].name})

    def offer_request(
        self,
        service: Service,
        date_from: datetime.date,
        date_to: datetime.date | None,
        part: str,
    ) -> Reply | None:
        """Where a clinic books `service` on request, offer to leave a booking request for the
        days asked (None: no such clinic, the caller is offered a callback instead)."""
        clinic = tools.request_clinic_for(
            service=service,
            preferred_ids=[*self.state.get("clinic_ids", ()), self.conversation.clinic_id],
        )
        if clinic is None:
            return None
        date_to = date_to or date_from + datetime.timedelta(days=tools.SEARCH_DAYS - 1)
        days = day_label(date_from, with_year=False)
        if date_to != date_from:
            days += " – " + day_label(date_to, with_year=False)
        return self.ask_to_confirm(
            {
                "action": "request",
                "service": service.pk,
                "clinic": clinic.pk,
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "part": part,
            },
            _(
                "%(clinic)s books %(service)s on request. Shall I leave a booking request for "
                "%(days)s? The clinic will call you to agree the time."
            )
            % {"clinic": clinic.name, "service": service.name, "days": days},
        )

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


def day_part(time_from: datetime.time | None, time_to: datetime.time | None) -> str:
    """The part of the day a wanted time range falls in, as booking requests name it."""
    if time_from is None:
        return DayPart.ANY
    if time_to is not None and time_from.hour < 12 < time_to.hour:
        return DayPart.ANY
    if time_from.hour < 12:
        return DayPart.MORNING
    return DayPart.AFTERNOON if time_from.hour < 17 else DayPart.EVENING
