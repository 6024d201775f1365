"""Where the activity facts stand: how far their refresh has read, and what changed since."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from crm.models import ActivityState
from scheduling.models import Appointment

STATE = "activity"
# Changes committed a little after the watermark was taken may carry an earlier `updated_at`
# (their transaction began before it): refreshes re-read this much, and readers treat it as
# not yet in the facts.
OVERLAP = datetime.timedelta(minutes=5)


def activity_state() -> ActivityState | None:
    """The refresh's state; None until the first refresh has finished (readers go live)."""
    return ActivityState.objects.filter(name=STATE).first()


def changed_since(state: ActivityState) -> datetime.datetime:
    """Changes after this moment may be missing from the facts: readers count them live."""
    return state.watermark - OVERLAP


def visits_changed(state: ActivityState) -> QuerySet[Appointment]:
    """Appointments written since the facts were read (the `updated_at` index finds them)."""
    return Appointment.objects.filter(updated_at__gt=changed_since(state))
