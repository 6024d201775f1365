"""Forms of the patient's booking pages."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


# --- The head nurse's board ----------------------------------------------------------------------

# Bounds of the quota forms; the services check the same (`scheduling.services.quota_editor`).
QUOTA_LIMIT_MAX = 1000
QUOTA_RELEASE_MAX = 24 * 30


class QuotaEditForm(forms.Form):
    """A quota's standing limit and when it is released."""

    limit = forms.IntegerField(label=_("Bookings a day"), min_value=0, max_value=QUOTA_LIMIT_MAX)
    release_before_hours = forms.IntegerField(
        label=_("Released hours before the slot"),
        min_value=0,
        max_value=QUOTA_RELEASE_MAX,
        required=False,
        help_text=_("Empty: the limit holds until the slot itself."),
    )


class QuotaForm(QuotaEditForm):
    """A new quota of one clinic: its channel, and a doctor and/or a service (empty: any)."""

    channel = forms.ChoiceField(label=_("Channel"))
    doctor = forms.ChoiceField(label=_("Doctor"), required=False)
    service = forms.ChoiceField(label=_("Service"), required=False)

    field_order = ["channel", "doctor", "service", "limit", "release_before_hours"]

    def __init__(self, *args, channels, doctors, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels
        self.doctors = {str(d.public_id): d for d in doctors}
        self.services = {str(s.public_id): s for s in services}
        self.fields["doctor"].choices = [("", _("Any doctor"))] + [
            (key, d.full_name) for key, d in self.doctors.items()
        ]
        self.fields["service"].choices = [("", _("Any service"))] + [
            (key, s.name) for key, s in self.services.items()
        ]

    def clean(self):
        cleaned = super().clean()
        cleaned["doctor"] = self.doctors.get(cleaned.get("doctor") or "")
        cleaned["service"] = self.services.get(cleaned.get("service") or "")
        return cleaned


class QuotaDayForm(forms.Form):
    """One cell of the quota calendar: the limit of one day (empty: the quota's own)."""

    day = forms.DateField()
    limit = forms.IntegerField(
        label=_("Limit on this day"), min_value=0, max_value=QUOTA_LIMIT_MAX, required=False
    )


class ClosureForm(forms.Form):
    """A room or device of the clinic closed from one local date and time to another."""

    resource = forms.ChoiceField(label=_("Room or equipment"))
    starts_at = forms.DateTimeField(
        label=_("Closed from"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=_("Closed until"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Shown to the desk with the visits to move. No patient data, please."),
    )

    def __init__(self, *args, clinic, rooms, equipment, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.resources = {f"room:{r.public_id}": r for r in rooms}
        self.resources |= {f"equipment:{e.public_id}": e for e in equipment}
        self.fields["resource"].choices = [("", "—")] + [
            (_("Rooms"), [(f"room:{r.public_id}", r.name) for r in rooms]),
            (_("Equipment"), [(f"equipment:{e.public_id}", e.name) for e in equipment]),
        ]

    def _local(self, value: datetime.datetime) -> datetime.datetime:
        """The wall-clock time typed, in the clinic's zone."""
        return value.replace(tzinfo=None).replace(tzinfo=self.clinic.tz)

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("resource") or ""
        resource = self.resources.get(key)
        cleaned["room"] = resource if key.startswith("room:") else None
        cleaned["equipment"] = resource if key.startswith("equipment:") else None
        first, last = cleaned.get("starts_at"), cleaned.get("ends_at")
        if first and last:
            first, last = self._local(first), self._local(last)
            cleaned["starts_at"], cleaned["ends_at"] = first, last
            if last <= first:
                self.add_error("ends_at", _("The end must be after the start."))
            elif last <= timezone.now():
                self.add_error("ends_at", _("This period is already over."))
        return cleaned
