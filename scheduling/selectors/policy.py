"""A clinic's booking policy, with defaults for clinics that have no row yet."""

from __future__ import annotations

from portal.models import Clinic
from scheduling.models import BookingPolicy


def policy_for(clinic: Clinic) -> BookingPolicy:
    """The clinic's policy; an unsaved default policy when none is configured."""
    return BookingPolicy.objects.filter(clinic=clinic).first() or BookingPolicy(clinic=clinic)
