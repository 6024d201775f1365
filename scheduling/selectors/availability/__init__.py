"""Free slots: the one source of bookable times.

A range's rules, exceptions, substitutions, occupancy (appointments and live holds), rooms,
equipment, quotas and counters are loaded in a fixed handful of ORM queries, whatever the
range (`loading.py`); everything else is arithmetic in memory, in each clinic's own time zone
(`schedule.py`, `clock.py`, `engine.py`). Wall-clock times that do not exist (a DST gap) are
never slots; wall-clock times that happen twice (a DST fold) are two slots, one per real
instant. Times are stored and compared in UTC.

Booking services call `resolve_slot_for_booking` (`resolve.py`), which runs the very same
computation for one start, so nothing can be booked that `free_slots` would not offer.
"""

from .engine import Slot
from .free import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_RANGE_DAYS,
    free_slots,
    free_slots_in,
    parse_date,
)
from .hours import working_hours
from .resolve import Resolution, resolve_slot, resolve_slot_for_booking

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "MAX_RANGE_DAYS",
    "Resolution",
    "Slot",
    "free_slots",
    "free_slots_in",
    "parse_date",
    "resolve_slot",
    "resolve_slot_for_booking",
    "working_hours",
]
