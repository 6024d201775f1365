"""Forms of the clinic's schedule pages: weekly rules, exceptions and the booking policy."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.forms.inputs import date_input, time_input
from scheduling.models import BookingPolicy, Service
from scheduling.services.booking_policy import POLICY_FIELDS


def parse_breaks(value: str) -> list[tuple[datetime.time, datetime.time]]:
    """'12:00-12:30, 15:00-15:15' as pairs of times; ValidationError for anything else."""
    pairs = []
    for part in value.replace(";", ",").split(","):
        part = part.strip().replace("–", "-").replace("—", "-")
        if not part:
            continue
        try:
            start, end = (datetime.time.fromisoformat(p.strip()) for p in part.split("-"))
        except ValueError as exc:
            raise forms.ValidationError(
                _("Write breaks as start-end times, e.g. 12:00-12:30, 15:00-15:15."),
                code="breaks",
            ) from exc
        pairs.append((start, end))
    return pairs


def breaks_text(breaks: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in breaks)


class ScheduleRuleForm(forms.Form):
    """A doctor's weekly working hours on one weekday in the clinic's local time."""

    doctor = forms.ChoiceField(label=_("Doctor"))
    weekday = forms.TypedChoiceField(label=_("Day of the week"), coerce=int)
    start_time = forms.TimeField(label=_("Starts"), widget=time_input())
    end_time = forms.TimeField(label=_("Ends"), widget=time_input())
    breaks = forms.CharField(
        label=_("Breaks"),
        required=False,
        max_length=200,
        help_text=_("Optional, e.g. 12:00-12:30, 15:00-15:15."),
    )
    slot_step_minutes = forms.IntegerField(
        label=_("Slot step, minutes"),
        initial=30,
        min_value=5,
        max_value=240,
        help_text=_("Free times start every this many minutes (at least 5)."),
    )
    buffer_minutes = forms.IntegerField(
        label=_("Buffer after a visit, minutes"),
        initial=0,
        min_value=0,
        max_value=120,
        help_text=_("Kept free after each visit for notes and cleaning."),
    )
    room = forms.ChoiceField(label=_("Room"), required=False)
    valid_from = forms.DateField(label=_("Valid from"), widget=date_input())
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=date_input(),
        help_text=_("Empty: no end date."),
    )

    def __init__(self, *args, doctors, rooms, weekdays, fixed_doctor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.doctors = {str(d.public_id): d for d in doctors}
        self.rooms = {str(r.public_id): r for r in rooms}
        self.fields["doctor"].choices = [(key, d.full_name) for key, d in self.doctors.items()]
        self.fields["weekday"].choices = weekdays
        self.fields["room"].choices = [("", _("No room of their own"))] + [
            (key, r.name) for key, r in self.rooms.items()
        ]
        if fixed_doctor is not None:
            # An existing rule keeps its doctor: the field is shown, not sent.
            self.fields["doctor"].disabled = True
            self.fields["doctor"].required = False
            self.initial["doctor"] = str(fixed_doctor.public_id)

    def clean_breaks(self):
        return parse_breaks(self.cleaned_data.get("breaks") or "")

    def clean(self):
        cleaned = super().clean()
        cleaned["doctor"] = self.doctors.get(cleaned.get("doctor") or "")
        cleaned["room"] = self.rooms.get(cleaned.get("room") or "")
        return cleaned


class ScheduleExceptionForm(forms.Form):
    """An absence or extra hours of a doctor in the clinic; `confirm` is sent once the page
    has shown the booked visits the absence hits."""

    doctor = forms.ChoiceField(label=_("Doctor"))
    kind = forms.ChoiceField(label=_("Kind"))
    date_from = forms.DateField(label=_("First day"), widget=date_input())
    date_to = forms.DateField(label=_("Last day"), widget=date_input())
    start_time = forms.TimeField(
        label=_("Start time"),
        required=False,
        widget=time_input(),
        help_text=_("Empty: the whole day. Extra hours need both times."),
    )
    end_time = forms.TimeField(label=_("End time"), required=False, widget=time_input())
    note = forms.CharField(
        label=_("Note (staff only)"),
        required=False,
        max_length=200,
        help_text=_("Encrypted; patients never see it."),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, doctors, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.doctors = {str(d.public_id): d for d in doctors}
        self.fields["doctor"].choices = [(key, d.full_name) for key, d in self.doctors.items()]
        self.fields["kind"].choices = kinds

    def clean(self):
        cleaned = super().clean()
        cleaned["doctor"] = self.doctors.get(cleaned.get("doctor") or "")
        return cleaned


class ReminderOffsetsField(forms.CharField):
    """Reminder times as '1440, 120' (minutes before the visit), cleaned to a list of ints."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(minutes) for minutes in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(
                _("Write whole numbers of minutes separated by commas, e.g. 1440, 120."),
                code="reminder_offsets",
            ) from exc


class BookingPolicyForm(forms.ModelForm):
    """The clinic's booking policy: fields and bounds from the model, help texts for the page.
    It only parses: `booking_policy_update` saves."""

    reminder_offsets_minutes = ReminderOffsetsField(
        label=_("Reminders, minutes before the visit"),
        required=False,
        help_text=_(
            "Comma-separated, e.g. 1440, 120: a day and two hours before. Empty: no reminders."
        ),
    )
    prepaid_services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        required=False,
        label=_("Services paid online in advance"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Booked online, these services wait for an online prepayment and are released if it "
            "does not arrive in time."
        ),
    )

    class Meta:
        model = BookingPolicy
        fields = [*POLICY_FIELDS, "prepaid_services"]
        widgets = {
            "contact_hours_start": time_input(),
            "contact_hours_end": time_input(),
        }
        help_texts = {
            "mode": _(
                "Native: patients book free times themselves. External system: times come from "
                "the clinic's own software. Booking request: patients ask, the desk confirms."
            ),
            "min_notice_minutes": _("Patients cannot book online a slot starting sooner."),
            "horizon_days": _("How far ahead free times are offered, 1 to 730 days."),
            "reschedule_deadline_hours": _(
                "Patients may move a visit until this many hours before it."
            ),
            "cancel_deadline_hours": _(
                "A cancellation closer to the visit than this counts as late."
            ),
            "max_active_per_patient": _("Upcoming visits one patient may hold at once."),
            "max_reschedules": _("How many times a patient may move one visit."),
            "rollback_window_minutes": _(
                "The desk's red button undoes a wrong booking or move for this long."
            ),
            "hold_ttl_minutes": _("A time picked online is kept for the patient this long."),
            "contact_hours_start": _("Reminders are sent only between these local times."),
            "contact_hours_end": _(
                "Local time. Reminders due outside these hours wait for the next morning; "
                "the same start and end allow any hour."
            ),
        }

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prepaid_services"].queryset = services
