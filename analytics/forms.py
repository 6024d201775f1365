from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from analytics.choices import Kpi
from analytics.kpis import DEFINITIONS
from portal.models import Clinic
from scheduling.models import Doctor, Specialty

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_DAYS = 3 * 366


class QuickSelect(forms.Select):
    """A select written in Python: Django's builds a dict and renders a template for every
    option, and a network's hundreds of doctors then cost more than the dashboard's figures.
    The same markup as Django's (its attributes as `attrs.html` writes them)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = set(self.format_value(value))
        final = self.build_attrs(self.attrs, attrs)
        written = format_html_join(
            "",
            "{}",
            (
                (format_html(" {}", key) if item is True else format_html(' {}="{}"', key, item),)
                for key, item in final.items()
                if item is not False
            ),
        )
        options = []
        for option, label in self.choices:
            selected = str(option) in chosen
            # Only the first option of the value is selected, as Django's select does.
            chosen -= {str(option)} if selected else set()
            options.append((option, " selected" if selected else "", label))
        return format_html(
            '<select name="{}"{}>\n{}\n</select>',
            name,
            written,
            format_html_join("\n", '  <option value="{}"{}>{}</option>', options),
        )


def doctor_label(last_name: str, first_name: str, clinics: list[str]) -> str:
    # The clinics tell apart namesakes, and a doctor mirrored from a connector clinic.
    name = f"{last_name} {first_name}"
    return f"{name} ({', '.join(sorted(clinics))})" if clinics else name


class DoctorChoices(ModelChoiceIterator):
    """The doctors' options from two queries of values (the doctors, their clinics' names),
    not a model instance per doctor and clinic."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        doctors = list(self.queryset.values_list("pk", "last_name", "first_name"))
        clinics: dict[int, list[str]] = defaultdict(list)
        links = Doctor.clinics.through.objects.filter(doctor_id__in=[d[0] for d in doctors])
        for doctor_id, name in links.values_list("doctor_id", "clinic__name"):
            clinics[doctor_id].append(name)
        for pk, last_name, first_name in doctors:
            yield (pk, doctor_label(last_name, first_name, clinics[pk]))


class DoctorChoiceField(forms.ModelChoiceField):
    iterator = DoctorChoices


class DashboardFilterForm(forms.Form):
    """The dashboard's filters; every field optional (empty: the last 30 days, everything)."""

    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"), widget=DATE_INPUT, required=False
    )
    date_to = forms.DateField(
        label=pgettext_lazy("period", "To"), widget=DATE_INPUT, required=False
    )
    clinic: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Clinic"),
        queryset=Clinic.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    specialty: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    doctor: forms.ModelChoiceField = DoctorChoiceField(
        label=_("Doctor"),
        queryset=Doctor.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
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
