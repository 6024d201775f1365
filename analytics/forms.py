from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from analytics.choices import Kpi
from analytics.kpis import DEFINITIONS
from portal.models import Clinic
from scheduling.models import Doctor, Specialty

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_DAYS = 3 * 366


class DoctorChoiceField(forms.ModelChoiceField):
    # The clinics tell apart namesakes, and a doctor mirrored from a connector clinic.
    def label_from_instance(self, obj: Any) -> str:
        clinics = ", ".join(sorted(clinic.name for clinic in obj.clinics.all()))
        name = f"{obj.last_name} {obj.first_name}"
        return f"{name} ({clinics})" if clinics else name


class DashboardFilterForm(forms.Form):
    """The dashboard's filters; every field optional (empty: the last 30 days, everything)."""

    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"), widget=DATE_INPUT, required=False
    )
    date_to = forms.DateField(
        label=pgettext_lazy("period", "To"), widget=DATE_INPUT, required=False
    )
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All")
    )
    specialty: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    doctor: forms.ModelChoiceField = DoctorChoiceField(
        label=_("Doctor"), queryset=Doctor.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args: Any, clinics: QuerySet[Clinic], today: datetime.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today
        choice = cast(dict[str, forms.ModelChoiceField], self.fields)
        choice["clinic"].queryset = clinics
        choice["specialty"].queryset = Specialty.objects.order_by("name")
        choice["doctor"].queryset = (
            Doctor.objects.filter(clinics__in=clinics)
            .distinct()
            .order_by("last_name", "first_name")
            .prefetch_related("clinics")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        last = data.get("date_to") or self.today
        first = data.get("date_from") or last - datetime.timedelta(days=29)
        if last < first or (last - first).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period that runs forwards, up to three years."))
        data["date_from"], data["date_to"] = first, last
        return data


class KpiTargetForm(forms.Form):
    """Targets of one clinic, one optional field per KPI that can have one."""

    def __init__(self, *args: Any, initial_values: dict[str, Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for kpi in Kpi:
            self.fields[kpi.value] = forms.DecimalField(
                label=kpi.label,
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=initial_values.get(kpi.value),
                help_text=_unit_help(kpi.value),
            )


def _unit_help(code: str) -> str:
    unit = DEFINITIONS[code].unit
    return str(
        {
            "percent": _("Per cent."),
            "per_mille": _("Per 1,000 bookings."),
            "minutes": _("Minutes."),
            "seconds": _("Seconds."),
            "money": _("Roubles for the period shown."),
        }.get(unit, "")
    )
