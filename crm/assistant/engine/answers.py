"""Answers without a booking: callbacks, doctors, prices, preparation, directions, knowledge."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.assistant import tools
from crm.assistant.engine.base import Reply, Turn, numbered
from crm.assistant.knowledge import knowledge_search
from portal.models import Clinic
from scheduling.choices import DayPart
from scheduling.models import Service


class AnswersTurn(Turn):
    """Answers that need no slot: callbacks, doctors, prices, preparation, directions."""

    def callback(self) -> Reply:
        phone = self.u.phone or (self.caller.patient.phone if self.caller.patient else "")
        if not phone:
            self.state["flow"] = "callback"
            return self.say(_("Leave your phone number and the clinic will call you back."))
        request = self.state.get("request")
        comment = _("Callback requested in the assistant chat.")
        clinic = self.conversation.clinic
        if request:
            clinic = Clinic.objects.filter(pk=request["clinic"]).first() or clinic
            service = Service.objects.filter(pk=request["service"]).first()
            comment = _(
                "Booking request in the assistant chat: %(service)s, %(from)s to %(to)s (%(part)s)."
            ) % {
                "service": service.name if service else "—",
                "from": request["from"],
                "to": request["to"],
                "part": DayPart(request["part"]).label,
            }
        tools.callback_request(caller=self.caller, phone=phone, clinic=clinic, comment=comment)
        self.state = {}
        self.reply.intent = "callback"
        return self.say(
            _("Thank you: the clinic will call you back during opening hours."),
            actions=["callback_requested"],
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
                + numbered([str(d) for d in doctors])
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
                _("Prices:") + "\n" + numbered([f"{s.name} — {s.price:.0f} ₽" for s in services]),
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
        return self.say(_("Our clinics:") + "\n" + numbered(lines), resolved=True)

    def smalltalk(self) -> Reply:
        return self.say(
            _(
                "I am the clinic's assistant and can only help with visits: booking, moving or "
                "cancelling, prices, addresses and preparation for examinations."
            )
        )
