"""The network admin's form for a new integration token."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.choices import IntegrationScope
from portal.forms.widgets import IsoDateInput
from portal.models import Clinic

# A token that outlives this is better issued again (and the old one revoked).
MAX_LIFETIME_DAYS = 3 * 366


class IntegrationTokenForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("integration token", "Name"),
        max_length=80,
        help_text=_("Which system uses it, e.g. “Connector of the Zamoskvorechye clinic”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Allowed"),
        choices=IntegrationScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing the token may do.")},
    )
    clinic = forms.ModelChoiceField(
        label=_("Clinic"),
        queryset=Clinic.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("Every clinic of the network"),
        help_text=_("A token limited to one clinic books and reads only there."),
    )
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=IsoDateInput,
        help_text=_("Empty: until revoked."),
    )

    def clean_expires_on(self) -> datetime.date | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        today = timezone.localdate()
        if day <= today:
            raise forms.ValidationError(_("Choose a day after today."))
        if day > today + datetime.timedelta(days=MAX_LIFETIME_DAYS):
            raise forms.ValidationError(_("At most three years ahead."))
        return day

    def expires_at(self) -> datetime.datetime | None:
        """The end of the chosen day in the network's display time zone (as the page shows it)."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        zone = zoneinfo.ZoneInfo(settings.DISPLAY_TIME_ZONE)
        return datetime.datetime.combine(day, datetime.time.max, tzinfo=zone)
