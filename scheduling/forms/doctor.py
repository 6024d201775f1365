"""Forms of the doctor's workplace: the visit note and a request for leave."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.forms.inputs import dates_from_today


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
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
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
            dates_from_today(self, first, last)
        clinic = cleaned["clinic"] = self.clinics.get(cleaned.get("clinic") or "")
        substitute = cleaned["substitute"] = self.substitutes.get(cleaned.get("substitute") or "")
        if substitute is not None:
            concerned = {clinic.pk} if clinic else {c.pk for c in self.clinics.values()}
            if not concerned <= {c.pk for c in substitute.clinics.all()}:
                self.add_error(
                    "substitute",
                    _(
                        "This doctor does not work in every clinic the request concerns: "
                        "pick one clinic, or let the clinic choose."
                    ),
                )
        return cleaned
