"""Appointments rendered as RFC 5545 calendars (one visit's .ics, a feed), with a VTIMEZONE
for each clinic's zone.

Events carry the service, doctor, clinic and address, never a diagnosis, complaint or note.
A doctor's feed names no patients (calendars end up in third-party apps); a patient's feed
names the family member when the visit is a dependant's.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from portal.models import User
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment

S = AppointmentStatus
PRODID = "-//Medfront//Booking//EN"
_ICS_STATUS: dict[str, str] = {
    S.BOOKED: "TENTATIVE",
    S.CONFIRMED: "CONFIRMED",
    S.CHECKED_IN: "CONFIRMED",
    S.COMPLETED: "CONFIRMED",
    S.CANCELLED: "CANCELLED",
    S.NO_SHOW: "CANCELLED",
    S.ROLLED_BACK: "CANCELLED",
}


def _uid(appointment: Appointment) -> str:
    host = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "medfront"
    return f"{appointment.public_id}@{host}"


def appointment_event(appointment: Appointment, *, show_patient: bool = False) -> Event:
    tz = appointment.clinic.tz
    event = Event()
    event.add("uid", _uid(appointment))
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("sequence", appointment.reschedule_count)
    summary = f"{appointment.service.name} — {appointment.doctor.full_name}"
    if show_patient:
        summary = f"{summary} ({appointment.patient.first_name})"
    event.add("summary", summary)
    clinic = appointment.clinic
    location = f"{clinic.name}, {clinic.city}, {clinic.address}"
    if appointment.room is not None:
        location += ", " + _("room %(room)s") % {"room": appointment.room.name}
    event.add("location", location)
    details = []
    if appointment.service.preparation:
        details.append(_("Preparation: %(text)s") % {"text": appointment.service.preparation})
    if clinic.phone:
        details.append(_("Clinic phone: %(phone)s") % {"phone": clinic.phone})
    if details:
        event.add("description", "\n".join(details))
    event.add("status", _ICS_STATUS.get(appointment.status, "TENTATIVE"))
    return event


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _add_timezones(cal: Calendar, starts: list[datetime.datetime]) -> None:
    """VTIMEZONEs covering a year either side of the events, not every rule since 1970."""
    if not starts:
        return
    year = datetime.timedelta(days=366)
    cal.add_missing_timezones(
        first_date=min(starts).date() - year, last_date=max(starts).date() + year
    )


def appointment_ics(appointment: Appointment) -> bytes:
    cal = _calendar(_("Medfront visit"))
    cal.add_component(appointment_event(appointment))
    _add_timezones(cal, [appointment.starts_at])
    ical: bytes = cal.to_ical()
    return ical


def feed_ics(
    appointments: Iterable[Appointment], *, user: User, is_doctor_feed_for: int | None = None
) -> bytes:
    """A feed: a patient's family visits, or (for a doctor) their visits without patients."""
    cal = _calendar(_("Medfront visits"))
    own_patient_id = getattr(getattr(user, "patient", None), "pk", None)
    listed = list(appointments)
    for appointment in listed:
        doctor_view = is_doctor_feed_for is not None and appointment.doctor_id == is_doctor_feed_for
        event = appointment_event(
            appointment,
            show_patient=not doctor_view and appointment.patient_id != own_patient_id,
        )
        if doctor_view:
            # Doctors see their day; the patient is not named outside Medfront.
            event["summary"] = appointment.service.name
        cal.add_component(event)
    _add_timezones(cal, [a.starts_at for a in listed])
    ical: bytes = cal.to_ical()
    return ical
