"""Forms of the staff patient pages. They parse input; `clean_patient_fields` validates and
normalises it (the same rules the services and the API apply), and its errors are mapped back
onto the fields."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.choices import AuditAction, IdDocumentType, Sex
from portal.forms.widgets import IsoDateInput
from portal.input_limits import validate_date_in_range
from portal.models import Clinic
from portal.services.patients import clean_patient_fields


def _blank(choices):
    return [("", "—"), *choices]


# --- Search ------------------------------------------------------------------------------------

_LETTER = re.compile(r"[^\W\d_]")
_DATE_DOTTED = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")


class PatientSearchForm(forms.Form):
    """One box for the desk: a phone, an e-mail, "1234 Surname", or "Surname Name 14.03.1985".

    `criteria()` turns the text into the keyword arguments of `patient_search`.
    """

    q = forms.CharField(
        label=_("Find a patient"),
        max_length=200,
        required=False,
        help_text=_(
            "A phone, an e-mail, the last 4 phone digits and the surname (1234 Ivanov), "
            "the surname, first name and date of birth (Ivanov Ivan 14.03.1985), or a document "
            "number (4510 123456, or № AB1234567 with letters)."
        ),
        widget=forms.TextInput(
            {
                "type": "search",
                "autofocus": True,
                "autocomplete": "off",
                "spellcheck": "false",
                "id": "patient-q",
            }
        ),
    )

    def clean_q(self) -> dict:
        text = " ".join(self.cleaned_data.get("q", "").split())
        if not text:
            return {}
        if "@" in text:
            return {"email": text}
        if text.startswith(("№", "#")):
            return {"document": text[1:].strip()}
        if not _LETTER.search(text):
            # Digits alone: a phone, or a passport's series and number (4510 123456).
            return {"phone": text, "document": text}
        found = _DATE_DOTTED.search(text) or _DATE_ISO.search(text)
        if found is not None:
            numbers = [int(part) for part in found.groups()]
            day, month, year = numbers if found.re is _DATE_DOTTED else reversed(numbers)
            try:
                birth_date = datetime.date(year, month, day)
                validate_date_in_range(birth_date)
            except (ValueError, ValidationError) as exc:
                raise ValidationError(
                    _("Enter the date of birth as DD.MM.YYYY."), code="invalid"
                ) from exc
            name = found.re.sub(" ", text)
            return {"name": " ".join(name.split()), "birth_date": birth_date}
        if _FOUR_DIGITS.search(text):
            return {"q": text}
        raise ValidationError(
            _(
                "Add the date of birth to search by name, or type the last 4 phone digits "
                "with the surname."
            ),
            code="incomplete",
        )

    def criteria(self) -> dict:
        """Keyword arguments for `patient_search`; empty when nothing was typed."""
        return self.cleaned_data.get("q") or {}


# --- Create and edit ---------------------------------------------------------------------------


class PatientForm(forms.Form):
    """The shared profile as the desk fills it in. Values are normalised in `clean()`."""

    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=IsoDateInput(),
        validators=[validate_date_in_range],
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank(Sex.choices), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput({"type": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.TextInput({"type": "email", "inputmode": "email"}),
    )
    address = forms.CharField(
        label=_("Address"), max_length=500, required=False, widget=forms.Textarea({"rows": 2})
    )
    id_document_type = forms.ChoiceField(
        label=_("ID document"), choices=_blank(IdDocumentType.choices), required=False
    )
    id_document_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    snils = forms.CharField(label=_("SNILS"), max_length=20, required=False)
    oms_policy = forms.CharField(label=_("OMS policy"), max_length=30, required=False)
    dms_policy = forms.CharField(label=_("DMS policy"), max_length=40, required=False)
    dms_insurer = forms.CharField(label=_("DMS insurer"), max_length=120, required=False)
    home_clinic: forms.ModelChoiceField[Clinic] = forms.ModelChoiceField(
        label=_("Home clinic"), queryset=None, required=False, empty_label="—"
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for messages"), choices=_blank(settings.LANGUAGES), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea({"rows": 3})
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_clinic"].queryset = clinics
        self.fields["last_name"].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = super().clean()
        # Fields that failed parsing already carry an error; validate the rest, so every bad
        # value is reported at once.
        values = {name: cleaned[name] for name in self.profile_field_names() if name in cleaned}
        try:
            normalised = clean_patient_fields(values, partial=bool(self.errors))
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if name in self.errors:
                    continue
                self.add_error(name if name in self.fields else None, messages)
            return cleaned
        cleaned.update(normalised)
        return cleaned

    def profile_field_names(self) -> list[str]:
        return [name for name in self.fields if name != "confirm_duplicates"]

    def profile_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.profile_field_names()}


class NewPatientForm(PatientForm):
    confirm_duplicates = forms.BooleanField(
        label=_("None of these is the person: create a new profile"), required=False
    )


def initial_from(patient) -> dict:
    """Form values of an existing profile."""
    return {
        name: getattr(patient, name)
        for name in PatientForm.base_fields
        if name not in ("home_clinic",)
    } | {"home_clinic": patient.home_clinic_id}


# --- Audit log filters -------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Person (e-mail or id)"), max_length=254, required=False)
    patient = forms.UUIDField(label=_("Patient id"), required=False)
    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label="—"
    )
    action = forms.ChoiceField(
        label=_("Action"), choices=_blank(AuditAction.choices), required=False
    )
    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("period", "To"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, clinics=None, **kwargs):
        super().__init__(*args, **kwargs)
        if clinics is not None:
            self.fields["clinic"].queryset = clinics

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError({"date_to": _("The end of the period is before its start.")})
        return data
