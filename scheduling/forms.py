"""Forms of the patient's booking pages."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.choices import ContactChannel, DayPart
from scheduling.selectors.availability import MAX_RANGE_DAYS


def _dates_from_today(form: forms.Form, first: datetime.date, last: datetime.date) -> bool:
    """Add the error of a period that starts before today or ends before it starts; True when
    there is none."""
    if first < timezone.localdate():
        form.add_error("date_from", _("Choose today or a later date."))
        return False
    if last < first:
        form.add_error("date_to", _("The end is before the start."))
        return False
    return True


class WaitlistForm(forms.Form):
    """Whom to wait for and between which dates (the clinic's local dates)."""

    patient = forms.ChoiceField(label=_("Who is waiting?"), widget=forms.RadioSelect)
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [
            (str(person.public_id), f"{person.first_name} {person.last_name}") for person in people
        ]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        longest = datetime.timedelta(days=MAX_RANGE_DAYS - 1)
        if first and last and _dates_from_today(self, first, last) and last - first > longest:
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


class VisitNoteForm(forms.Form):
    """The doctor's note for the patient after a visit, and whether the patient sees it."""

    text = forms.CharField(
        label=_("Note for the patient"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Recommendations, and a diagnosis only if you want the patient to read it."),
    )
    visible_to_patient = forms.BooleanField(
        label=_("Visible to the patient"),
        required=False,
        help_text=_("Shown on the patient's visit page and in the visit summary PDF."),
    )


class LeaveRequestForm(forms.Form):
    """A doctor's request for a day off or a substitution (dates in the clinic's calendar)."""

    kind = forms.ChoiceField(label=_("What do you need?"), widget=forms.RadioSelect)
    date_from = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    clinic = forms.ChoiceField(label=_("Clinic"), required=False)
    substitute = forms.ChoiceField(label=_("Proposed substitute (optional)"), required=False)
    note = forms.CharField(
        label=_("Comment (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, kinds, clinics, substitutes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        self.clinics = {str(c.public_id): c for c in clinics}
        self.substitutes = {str(d.public_id): d for d in substitutes}
        self.fields["clinic"].choices = [("", _("Every clinic where I work"))] + [
            (key, c.name) for key, c in self.clinics.items()
        ]
        self.fields["substitute"].choices = [("", _("Let the clinic choose"))] + [
            (key, d.full_name) for key, d in self.substitutes.items()
        ]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last:
            _dates_from_today(self, first, last)
        cleaned["clinic"] = self.clinics.get(cleaned.get("clinic") or "")
        cleaned["substitute"] = self.substitutes.get(cleaned.get("substitute") or "")
        return cleaned


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
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"to_{n}"] = forms.DateField(
                label=_("or until (optional)"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
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
