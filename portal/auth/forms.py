"""Form pieces of sign-in and onboarding. Values are parsed here; services validate the rest."""

from __future__ import annotations

from typing import cast

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.forms.account import PersonFields
from portal.models import Clinic
from portal.normalize import canonical_login, normalize_phone


class PhoneField(forms.CharField):
    """A phone typed the way people type it ("8 914 555-12-34"); cleans to E.164.

    allauth uses it for the sign-in, sign-up, code and phone-change forms (through the
    adapter's `phone_form_field`), so every path stores and looks up the same normal form.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": "+7 914 555-12-34",
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return normalize_phone(value)


class ClinicChoiceField(forms.ModelChoiceField):
    """Clinics named with their city first: the list reads like the network's map."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.city} — {obj.name}"


class OnboardingForm(PersonFields):
    """Who the new patient is (a date of birth required). The e-mail comes from the verified
    login, not from here."""

    phone = PhoneField(
        required=False,
        help_text=_("For reminders and sign-in codes."),
    )
    home_clinic = ClinicChoiceField(
        label=_("My clinic"),
        queryset=Clinic.objects.none(),
        empty_label="—",
        help_text=_(
            "The clinic you usually go to: its time zone and address come first. "
            "You can book in any clinic of the network."
        ),
        error_messages={"required": _("Choose the clinic you usually go to.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].required = True
        clinics = Clinic.objects.filter(is_active=True).order_by("city", "name")
        field = cast(ClinicChoiceField, self.fields["home_clinic"])
        field.queryset = clinics
        if len(clinics) == 1:
            field.initial = clinics[0].pk
        elif not clinics:
            # A network without clinics yet cannot ask; the profile page asks later.
            field.required = False

    def apply_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form with a label that says what to type, reading the identifier in
    its one spelling (`canonical_login`): allauth then tells e-mail from phone by that, so
    "ｉｖａｎ＠…" typed with a full-width keyboard is the e-mail it looks like."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("E-mail or mobile phone")
        login.widget.attrs.update(
            {"autocomplete": "username", "placeholder": "name@example.ru / +7 914 555-12-34"}
        )

    def clean_login(self) -> str:
        return canonical_login(super().clean_login())


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """allauth's "send me a code" form, refusing a form with neither e-mail nor phone.

    With both sign-in methods on, allauth makes both fields optional and its view then reads the
    user an empty form never looked up (a 500); an empty form is a form error instead.
    """

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError(_("Enter your e-mail or phone."), code="required")
        return cleaned
