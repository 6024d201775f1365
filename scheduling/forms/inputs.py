"""Widgets and checks that several of the scheduling forms share."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def dates_from_today(form: forms.Form, first: datetime.date, last: datetime.date) -> bool:
    """Add the error of a period that starts before today or ends before it starts; True when
    there is none."""
    if first < timezone.localdate():
        form.add_error("date_from", _("Choose today or a later date."))
        return False
    if last < first:
        form.add_error("date_to", _("The end is before the start."))
        return False
    return True


def time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
