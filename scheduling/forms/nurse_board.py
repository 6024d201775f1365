"""Forms of the head nurse's board: quotas, one day's limit and resource closures."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
