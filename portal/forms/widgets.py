"""Widgets the portal's forms share."""

from __future__ import annotations

from django import forms


class IsoDateInput(forms.DateInput):
    """The browser's date picker; it posts ISO dates whatever the locale shows."""

    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value
