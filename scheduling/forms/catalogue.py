"""Forms of the clinic admin's catalogue: services, prices and promotions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.choices import PatientSegment
from scheduling.forms.inputs import date_input
from scheduling.models import Promotion, Service
from scheduling.selectors.pricing import normalize_code
from scheduling.services.pricing import PROMOTION_FIELDS, SERVICE_FIELDS


class ServiceForm(forms.ModelForm):
    """The shared definition of a service (network-wide staff only)."""

    class Meta:
        model = Service
        fields = SERVICE_FIELDS
        widgets = {"preparation": forms.Textarea(attrs={"rows": 4})}


class PriceForm(forms.Form):
    """A clinic's new price of a service and the day it takes effect."""

    price = forms.DecimalField(
        label=_("New price, ₽"), min_value=0, max_digits=10, decimal_places=2
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=date_input())


class PromotionForm(forms.ModelForm):
    """A promotion of one clinic; the model's constraints are checked as the form validates."""

    class Meta:
        model = Promotion
        fields = PROMOTION_FIELDS
        widgets = {
            "starts_on": date_input(),
            "ends_on": date_input(),
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
