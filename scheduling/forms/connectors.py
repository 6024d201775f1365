"""The form of a clinic's connector to an outside booking system."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.choices import ConnectorKind


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
