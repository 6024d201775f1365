"""A clinic's booking policy, with defaults for clinics that have no row yet."""

from __future__ import annotations

from portal.models import Clinic
from scheduling.models import BookingPolicy


def policy_for(clinic: Clinic) -> BookingPolicy:
    """The clinic's policy (loaded with the clinic by `select_related("booking_policy")`, or
    read now); an unsaved default policy when none is configured."""
    try:
        return clinic.booking_policy
    except BookingPolicy.DoesNotExist:
        return BookingPolicy(clinic=clinic)
