"""Forms of the desk's waitlist: a waiting patient's rank and the freed slot's assignee."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from scheduling.forms.inputs import date_input
from scheduling.models.waitlist import MAX_BOOST


class WaitlistPriorityForm(forms.Form):
    """Staff's say in a waiting patient's rank."""

    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    boost = forms.IntegerField(label=_("Manual boost"), min_value=0, max_value=MAX_BOOST)


class WaitlistAssignForm(forms.Form):
    entry = forms.UUIDField(label=_("Waiting patient"))


class DeskWaitlistJoinForm(forms.Form):
    """The registrar puts a patient on the waiting list: the patient's own choices (a service
    or any service of a specialty, optionally one doctor, the dates), in one of the clinics the
    registrar works in or any clinic of one of their cities."""

    CITY = "city:"

    clinic = forms.ChoiceField(label=_("Where?"))
    service = forms.ChoiceField(label=_("Service"), required=False)
    specialty = forms.ChoiceField(label=_("or any service of"), required=False)
    doctor = forms.ChoiceField(label=_("Doctor"), required=False)
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), widget=date_input())
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), widget=date_input())

    def __init__(self, *args, clinics, services, specialties, doctors, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinics = {str(c.public_id): c for c in clinics}
        self.services = {str(s.public_id): s for s in services}
        self.specialties = {str(s.public_id): s for s in specialties}
        self.doctors = {str(d.public_id): d for d in doctors}
        cities = sorted({c.city for c in clinics})
        self.fields["clinic"].choices = [(k, c.name) for k, c in self.clinics.items()] + [
            (self.CITY + city, _("Any clinic in %(city)s") % {"city": city}) for city in cities
        ]
        self.fields["service"].choices = [("", "—")] + [
            (k, s.name) for k, s in self.services.items()
        ]
        self.fields["specialty"].choices = [("", "—")] + [
            (k, s.name) for k, s in self.specialties.items()
        ]
        self.fields["doctor"].choices = [("", _("Any doctor"))] + [
            (k, d.full_name) for k, d in self.doctors.items()
        ]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("service")) == bool(cleaned.get("specialty")):
            self.add_error("service", _("Choose a service or a specialty, one of the two."))
        clinic = self.clinics.get(cleaned.get("clinic") or "")
        doctor = self.doctors.get(cleaned.get("doctor") or "")
        if clinic is not None and doctor is not None and clinic not in doctor.clinics.all():
            self.add_error("doctor", _("This doctor does not work in the chosen clinic."))
        return cleaned

    def entry_values(self) -> dict:
        data = self.cleaned_data
        place = data["clinic"]
        city = place[len(self.CITY) :] if place.startswith(self.CITY) else ""
        return {
            "clinic": self.clinics.get(place),
            "city": city,
            "service": self.services.get(data.get("service") or ""),
            "specialty": self.specialties.get(data.get("specialty") or ""),
            "doctor": self.doctors.get(data.get("doctor") or ""),
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
