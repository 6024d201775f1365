"""The booking engine's write paths. Nothing else writes appointments.

Invariants every function here keeps:

- One transaction per call; on any domain error nothing changes.
- A doctor, room or piece of equipment is never in two active appointments or live holds at
  once: PostgreSQL refuses it (exclusion constraint on `Occupancy`), SQLite serializes writers
  and checks. A lost race or deadlock is answered with `SlotTaken`.
- Only a slot that `free_slots` would offer can be booked or moved to
  (`resolve_slot_for_booking`).
- Quota counters and patient limits are checked under row locks in the same transaction.
- Every change appends an `AppointmentEvent` (moves also an `AppointmentMove`), an audit row
  and outbox messages, in the same transaction.

Permission checks (capabilities) stay in the callers; these services only make sure that a
patient acting for someone may act for them, and that patients do not do staff-only changes.
"""

from .book import appointment_book
from .external import appointment_mirror_external, appointment_mirror_external_move
from .guards import check_may_act_for
from .move import appointment_reschedule
from .rollback import appointment_rollback
from .status import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_confirm_paid,
    appointment_mark_no_show,
    appointment_release_unpaid,
)
from .status_undo import appointment_status_undo

__all__ = [
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_confirm_paid",
    "appointment_mark_no_show",
    "appointment_mirror_external",
    "appointment_mirror_external_move",
    "appointment_release_unpaid",
    "appointment_reschedule",
    "appointment_rollback",
    "appointment_status_undo",
    "check_may_act_for",
]
