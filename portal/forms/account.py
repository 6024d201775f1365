"""Forms of the patient's account pages. They parse input; the services validate the rest
(`portal.services.patients.clean_patient_fields`) and their errors are mapped back here."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.choices import FamilyRelation, LegalBasis, Sex
from portal.forms.widgets import IsoDateInput
from portal.input_limits import validate_date_in_range
from portal.models import Clinic


def _blank(choices):
    return [("", "—"), *choices]


class PersonFields(forms.Form):
    """Who the person is: shared by the profile form and the add-a-dependant form."""

    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput({"autocomplete": "family-name"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput({"autocomplete": "given-name"}),
    )
    middle_name = forms.CharField(
        label=_("Middle name"),
        max_length=100,
        required=False,
        widget=forms.TextInput({"autocomplete": "additional-name"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=IsoDateInput({"autocomplete": "bday"}),
        validators=[validate_date_in_range],
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank(Sex.choices), required=False)


class ProfileForm(PersonFields):
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        required=False,
        help_text=_("For reminders and signing codes, e.g. +7 914 555-12-34."),
        widget=forms.TextInput({"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("Contact e-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        required=False,
        widget=forms.Textarea({"rows": 2, "autocomplete": "street-address"}),
    )
    snils = forms.CharField(label=_("SNILS"), max_length=20, required=False)
    oms_policy = forms.CharField(label=_("OMS policy number"), max_length=24, required=False)
    home_clinic = forms.ModelChoiceField(
        label=_("My clinic"),
        queryset=Clinic.objects.none(),
        required=False,
        empty_label="—",
    )
    preferred_language = forms.ChoiceField(
        label=_("Language of messages"), choices=_blank(settings.LANGUAGES), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_clinic"].queryset = Clinic.objects.filter(is_active=True).order_by(
            "city", "name"
        )


class DependantForm(PersonFields):
    relation = forms.ChoiceField(
        label=_("Who is this to you"), choices=_blank(FamilyRelation.choices)
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis to act for them"), choices=_blank(LegalBasis.choices)
    )
    basis_document = forms.CharField(
        label=_("Basis document"),
        max_length=200,
        required=False,
        help_text=_("E.g. birth certificate or power of attorney number."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=IsoDateInput(),
        help_text=_("Leave empty for a parent of a minor: it ends at 18."),
        validators=[validate_date_in_range],
    )

    field_order = [
        "relation",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "sex",
        "legal_basis",
        "basis_document",
        "valid_until",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].required = True


LINK_FIELDS = ("relation", "legal_basis", "basis_document", "valid_until")


class ConsentSignForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the text and agree"),
        error_messages={"required": _("Tick the box to confirm you have read the text.")},
    )
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        required=False,
        widget=forms.TextInput(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 ]*"}
        ),
    )

    def __init__(self, *args, needs_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_code = needs_code
        if not needs_code:
            del self.fields["code"]

    def clean_code(self):
        code = "".join(self.cleaned_data.get("code", "").split())
        if self.needs_code and not (code.isdigit() and len(code) == 6):
            raise ValidationError(_("Enter the 6 digits from the SMS."))
        return code


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (or on top, for other keys)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
