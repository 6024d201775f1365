"""Forms of the desk's waitlist: a waiting patient's rank and the freed slot's assignee."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduling.models.waitlist import MAX_BOOST


class WaitlistPriorityForm(forms.Form):
    """Staff's say in a waiting patient's rank."""

    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    boost = forms.IntegerField(label=_("Manual boost"), min_value=0, max_value=MAX_BOOST)


class WaitlistAssignForm(forms.Form):
    entry = forms.UUIDField(label=_("Waiting patient"))
