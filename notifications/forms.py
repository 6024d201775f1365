from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications.choices import Channel, LogState
from notifications.templating import Event, check_text
from portal.input_limits import validate_date_in_range
from portal.models import Clinic


def _blank(choices):
    return [("", "—"), *choices]


class MessageTextForm(forms.Form):
    """One event's text on one channel in one language; only the event's placeholders."""

    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Text"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 7}),
    )

    def __init__(self, *args, event: Event, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        if channel == Channel.EMAIL:
            self.fields["subject"].required = True
        else:
            # SMS and messengers have no subject.
            del self.fields["subject"]

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        check_text(subject, event=self.event)
        return subject

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise ValidationError(_("Write the text of the message."), code="required")
        check_text(body, event=self.event)
        return body


class MessageLogFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Status"), choices=_blank(LogState.choices), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=_blank(Channel.choices), required=False)
    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label="—"
    )
    date_from = forms.DateField(
        label=_("Date from"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Date to"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError({"date_to": _("The end of the period is before its start.")})
        return data
