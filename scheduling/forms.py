"""Forms of the booking pages, the workplaces, the clinic's schedule pages and catalogue."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.choices import ConnectorKind, ContactChannel, DayPart, PatientSegment
from scheduling.models import BookingPolicy, Promotion, Service
from scheduling.models.waitlist import MAX_BOOST
from scheduling.selectors.availability import MAX_RANGE_DAYS
from scheduling.selectors.pricing import normalize_code
from scheduling.services.schedule_rules import POLICY_FIELDS


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


# --- The clinic's schedule pages -------------------------------------------------------------


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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
    start_time = forms.TimeField(label=_("Starts"), widget=_time_input())
    end_time = forms.TimeField(label=_("Ends"), widget=_time_input())
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
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_input())
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=_date_input(),
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
    date_from = forms.DateField(label=_("First day"), widget=_date_input())
    date_to = forms.DateField(label=_("Last day"), widget=_date_input())
    start_time = forms.TimeField(
        label=_("Start time"),
        required=False,
        widget=_time_input(),
        help_text=_("Empty: the whole day. Extra hours need both times."),
    )
    end_time = forms.TimeField(label=_("End time"), required=False, widget=_time_input())
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
            "contact_hours_start": _time_input(),
            "contact_hours_end": _time_input(),
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


# --- The clinic admin's catalogue ----------------------------------------------------------------


class ServiceForm(forms.ModelForm):
    """The shared definition of a service (network-wide staff only)."""

    class Meta:
        model = Service
        fields = ["name", "duration_minutes", "preparation", "is_active", "sort_order"]
        widgets = {"preparation": forms.Textarea(attrs={"rows": 4})}


class PriceForm(forms.Form):
    """A clinic's new price of a service and the day it takes effect."""

    price = forms.DecimalField(
        label=_("New price, ₽"), min_value=0, max_digits=10, decimal_places=2
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_input())


class PromotionForm(forms.ModelForm):
    """A promotion of one clinic; the model's constraints are checked as the form validates."""

    class Meta:
        model = Promotion
        fields = [
            "name",
            "service",
            "kind",
            "value",
            "starts_on",
            "ends_on",
            "code",
            "segment",
            "min_age",
            "max_age",
            "usage_limit",
            "is_active",
        ]
        widgets = {
            "starts_on": _date_input(),
            "ends_on": _date_input(),
            "segment": forms.RadioSelect,
        }

    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("All services"),
        help_text=_("Empty: every service of the clinic."),
    )

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data.get("code") or "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("segment") == PatientSegment.AGE_BAND and (
            cleaned.get("min_age") is None and cleaned.get("max_age") is None
        ):
            self.add_error("min_age", _("Give the age band: from, to or both."))
        return cleaned


class WaitlistPriorityForm(forms.Form):
    """Staff's say in a waiting patient's rank."""

    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    boost = forms.IntegerField(label=_("Manual boost"), min_value=0, max_value=MAX_BOOST)


class WaitlistAssignForm(forms.Form):
    entry = forms.UUIDField(label=_("Waiting patient"))


class ConnectorForm(forms.Form):
    """A clinic's connector. The secret is write-only: the page never shows it back, and an
    empty field keeps the stored one."""

    kind = forms.ChoiceField(label=_("System type"), choices=ConnectorKind.choices)
    base_url = forms.URLField(
        label=_("Address"),
        max_length=300,
        assume_scheme="https",
        help_text=_(
            "FHIR: the server's base, e.g. https://mis.example.ru/fhir/R4. "
            "iCalendar: the feed's URL."
        ),
    )
    settings = forms.CharField(
        label=_("Settings (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=_(
            'FHIR: {"schedules": {"<our doctor id>": "<their Schedule id>"}}. '
            "iCalendar: nothing needed."
        ),
    )
    secret = forms.CharField(
        label=_("Secret (API token)"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    timeout_seconds = forms.IntegerField(label=_("Timeout, seconds"), min_value=1, max_value=30)
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def clean_settings(self) -> dict:
        text = self.cleaned_data["settings"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("This is not valid JSON.")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Settings must be a JSON object."))
        schedules = value.get("schedules", {})
        if not isinstance(schedules, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in schedules.items()
        ):
            raise forms.ValidationError(
                _('"schedules" maps doctor ids to Schedule ids, both as text.')
            )
        return value
