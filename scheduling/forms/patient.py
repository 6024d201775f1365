"""Forms the patient fills in: joining the waitlist, an invoice for an organisation and a
booking request."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from scheduling.choices import ContactChannel, DayPart
from scheduling.forms.inputs import date_input, dates_from_today
from scheduling.selectors.availability import MAX_RANGE_DAYS


class WaitlistForm(forms.Form):
    """Whom to wait for and between which dates (the clinic's local dates)."""

    patient = forms.ChoiceField(label=_("Who is waiting?"), widget=forms.RadioSelect)
    # "service": this service only; "specialty": any service of its specialty.
    breadth = forms.ChoiceField(
        label=_("What fits?"), widget=forms.RadioSelect, required=False, initial="service"
    )
    city = forms.ChoiceField(label=_("Where?"), required=False)
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), widget=date_input())
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), widget=date_input())

    def __init__(self, *args, people, service, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [
            (str(person.public_id), f"{person.first_name} {person.last_name}") for person in people
        ]
        self.fields["breadth"].choices = [
            ("service", _("Only %(service)s") % {"service": service.name}),
            ("specialty", _("Any service: %(specialty)s") % {"specialty": service.specialty.name}),
        ]
        self.fields["city"].choices = [("", _("Any clinic of the network"))] + [
            (city, _("Any clinic in %(city)s") % {"city": city}) for city in cities
        ]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        longest = datetime.timedelta(days=MAX_RANGE_DAYS - 1)
        if first and last and dates_from_today(self, first, last) and last - first > longest:
            self.add_error(
                "date_to",
                _("Wait for at most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS},
            )
        return cleaned


class InvoiceForm(forms.Form):
    organisation_name = forms.CharField(label=_("Organisation"), max_length=300)
    organisation_inn = forms.CharField(label=_("INN"), max_length=12)
    organisation_kpp = forms.CharField(label=_("KPP"), max_length=9, required=False)
    organisation_address = forms.CharField(label=_("Address"), max_length=300)


class BookingRequestForm(forms.Form):
    """A booking request in a request-mode clinic: for whom, what, when (up to three preferred
    days or ranges, each with a part of the day), how to be contacted, and a comment."""

    WINDOWS = 3

    patient = forms.ChoiceField(label=_("Who is the visit for?"), widget=forms.RadioSelect)
    service = forms.ChoiceField(label=_("Service"), required=False)
    contact_channel = forms.ChoiceField(
        label=_("How should the clinic contact you?"),
        choices=ContactChannel.choices,
        initial=ContactChannel.PHONE,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What bothers you, or anything the clinic should know to choose a time."),
    )

    def __init__(self, *args, people, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [
            (str(person.public_id), f"{person.first_name} {person.last_name}") for person in people
        ]
        self.services = {str(s.public_id): s for s in services}
        self.fields["service"].choices = [("", _("Any; the clinic will choose"))] + [
            (key, s.name) for key, s in self.services.items()
        ]
        for n in range(1, self.WINDOWS + 1):
            required = n == 1
            self.fields[f"from_{n}"] = forms.DateField(
                label=_("Preferred day") if required else _("Another day (optional)"),
                required=required,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"to_{n}"] = forms.DateField(
                label=_("or until (optional)"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"part_{n}"] = forms.ChoiceField(
                label=_("Time of day"), choices=DayPart.choices, initial=DayPart.ANY, required=False
            )

    def window_rows(self):
        """The (from, to, part) bound fields of each preferred time, for the template."""
        return [
            (self[f"from_{n}"], self[f"to_{n}"], self[f"part_{n}"])
            for n in range(1, self.WINDOWS + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        windows = []
        for n in range(1, self.WINDOWS + 1):
            first, last = cleaned.get(f"from_{n}"), cleaned.get(f"to_{n}")
            if first is None:
                continue
            if first < timezone.localdate():
                self.add_error(f"from_{n}", _("Choose today or a later date."))
            elif last is not None and last < first:
                self.add_error(f"to_{n}", _("The end is before the start."))
            windows.append(
                {
                    "from": first,
                    "to": last or first,
                    "part": cleaned.get(f"part_{n}") or DayPart.ANY,
                }
            )
        cleaned["windows"] = windows
        cleaned["service"] = self.services.get(cleaned.get("service") or "")
        return cleaned
