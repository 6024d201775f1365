"""Receivers that keep derived state in step with the models it is derived from.

The day board's grid is cached under its version (`scheduling.selectors.day_board_cache`).
The version's query sees appointments, occupancy and the newest rule and exception of the
clinic; every other model the board reads moves the board generation here, once the change
is committed (a board read between the write and the commit would otherwise be kept under
the new generation with the old data).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.models import Clinic, Patient
from scheduling.models import (
    BookingPolicy,
    Doctor,
    Equipment,
    Quota,
    QuotaCounter,
    ResourceClosure,
    Room,
    ScheduleException,
    ScheduleRule,
    Service,
    Specialty,
    Substitution,
)
from scheduling.selectors.day_board import bump_board_generation

# What the board shows or computes free times from, beyond the version's own query: names and
# who works where, stand-ins, rooms, equipment and their closures, quotas and day limits, the
# clinic and its policy; rules and exceptions for their deletion (an edit moves `updated_at`).
BOARD_MODELS = (
    Clinic,
    BookingPolicy,
    Doctor,
    Service,
    Specialty,
    Room,
    Equipment,
    ResourceClosure,
    Substitution,
    Quota,
    QuotaCounter,
    ScheduleRule,
    ScheduleException,
)
BOARD_LINKS = (
    Doctor.clinics.through,
    Doctor.services.through,
    Doctor.specialties.through,
    Service.equipment_types.through,
)
# The board shows patients' surnames only.
PATIENT_FIELDS = frozenset({"last_name"})


def board_changed(**kwargs: Any) -> None:
    transaction.on_commit(bump_board_generation)


def patient_saved(*, update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    if update_fields is None or update_fields & PATIENT_FIELDS:
        transaction.on_commit(bump_board_generation)


def connect() -> None:
    """Called once from `SchedulingConfig.ready`."""
    for model in BOARD_MODELS:
        post_save.connect(board_changed, sender=model, dispatch_uid=f"day-board-{model.__name__}")
        post_delete.connect(
            board_changed, sender=model, dispatch_uid=f"day-board-del-{model.__name__}"
        )
    for through in BOARD_LINKS:
        m2m_changed.connect(board_changed, sender=through, dispatch_uid=f"day-board-{through}")
    post_save.connect(patient_saved, sender=Patient, dispatch_uid="day-board-patient")
    post_delete.connect(board_changed, sender=Patient, dispatch_uid="day-board-patient-del")
