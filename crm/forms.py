"""Forms of the CRM pages: they parse input; the services decide."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.choices import CampaignChannel, LeadSource
from crm.models import KnowledgeArticle, Segment
from crm.selectors.segments import RULE_NAMES
from crm.services.leads import ATTRIBUTION_FIELDS, MAX_COMMENT, MAX_NAME
from portal.models import Clinic, User

# The browser's date picker reads and writes ISO dates whatever the page's language.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PublicLeadForm(forms.Form):
    """The website form. `website` is a honeypot: people never see it, robots fill it."""

    name = forms.CharField(label=_("Your name"), max_length=MAX_NAME, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    comment = forms.CharField(
        label=_("How can we help?"),
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    clinic = forms.SlugField(required=False, widget=forms.HiddenInput)


# Attribution ids ride along as hidden fields with the names the ad systems give them.
for _name in ATTRIBUTION_FIELDS:
    PublicLeadForm.base_fields[_name] = forms.CharField(
        required=False, max_length=2000, widget=forms.HiddenInput
    )


class StaffLeadForm(forms.Form):
    """A lead the marketer enters by hand (a call to a tracking number, a walk-in)."""

    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices)
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False
    )
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    comment = forms.CharField(
        label=_("Comment"),
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    utm_source = forms.CharField(label=_("UTM source"), max_length=100, required=False)
    utm_campaign = forms.CharField(label=_("UTM campaign"), max_length=150, required=False)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contacted = forms.BooleanField(label=_("We have spoken to them"), required=False)


class FunnelFilterForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), widget=DATE_INPUT)
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), widget=DATE_INPUT)
    touch = forms.ChoiceField(
        label=_("Attribution"),
        choices=[("first", _("First touch")), ("last", _("Last touch"))],
        initial="first",
    )
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end < start or (end - start).days > 3 * 366):
            raise forms.ValidationError(_("Choose a period that runs forwards, up to three years."))
        return data


class SpendForm(forms.Form):
    utm_source = forms.CharField(label=_("UTM source"), max_length=100)
    utm_campaign = forms.CharField(
        label=_("UTM campaign"),
        max_length=150,
        required=False,
        help_text=_("Empty: the whole source."),
    )
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), widget=DATE_INPUT)
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), widget=DATE_INPUT)
    amount = forms.DecimalField(label=_("Amount, ₽"), max_digits=12, decimal_places=2, min_value=0)


class SpendImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class SegmentForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("title of a list or campaign", "Name"), max_length=100, required=False
    )
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All")
    )
    inactive_days = forms.IntegerField(
        label=_("No visit for at least, days"), min_value=1, max_value=3650, required=False
    )
    specialty_id = forms.TypedChoiceField(
        label=_("Visited the specialty"), coerce=int, required=False, empty_value=None
    )
    min_no_shows = forms.IntegerField(
        label=_("No-shows, at least"), min_value=1, max_value=100, required=False
    )
    min_spend = forms.DecimalField(
        label=_("Spent at least, ₽"), min_value=1, max_digits=12, decimal_places=2, required=False
    )
    # By the year of birth only (see crm.models.PatientActivity.birth_year).
    age_from = forms.IntegerField(
        label=_("Age this year, from"), min_value=0, max_value=120, required=False
    )
    age_to = forms.IntegerField(
        label=_("Age this year, to"), min_value=0, max_value=120, required=False
    )
    marketing_consent = forms.BooleanField(
        label=_("Only with consent to advertising messages"), required=False
    )

    def __init__(self, *args, clinics, specialties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        self.fields["specialty_id"].choices = [
            ("", _("Any")),
            *((s.pk, s.name) for s in specialties),
        ]

    def rules(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in RULE_NAMES}


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("title of a list or campaign", "Name"), max_length=100
    )
    segment: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none()
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    subject = forms.CharField(
        label=_("E-mail subject"), max_length=150, required=False, help_text=_("E-mail only.")
    )
    text = forms.CharField(
        label=_("Message"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )
    booking_window_days = forms.IntegerField(
        label=_("Count bookings for, days"), min_value=1, max_value=90, initial=14
    )

    def __init__(self, *args, segments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segments


class KnowledgeArticleForm(forms.ModelForm):
    """An article of the assistant's knowledge base; the clinics offered are the editor's,
    and "the whole network" only to network-wide editors."""

    class Meta:
        model = KnowledgeArticle
        fields = ("title", "kind", "language", "clinic", "body", "published")
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, clinics, network_wide: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["clinic"])
        field.queryset = clinics
        field.required = not network_wide
        field.empty_label = _("The whole network") if network_wide else None


class TaskForm(forms.Form):
    """A task on a lead; times are in the page's time zone."""

    text = forms.CharField(label=_("What to do"), max_length=200)
    due_at = forms.DateTimeField(
        label=_("Due"),
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none()
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda user: str(user)
