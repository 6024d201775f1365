"""Recomputing the patients' blind indexes from their decrypted values.

`Patient.save()` keeps a profile's indexes in step with its values, so this is needed only
when what an index is computed from changes for rows already stored: the normalisation
(`portal.normalize`) or `BLIND_INDEX_KEY`. Data migrations call it after changing the
normalisation; `manage.py reindex_patients` runs it by hand (after a new BLIND_INDEX_KEY).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models, transaction

from portal.models import Patient
from portal.models.patients import blind_indexes_of

# What the indexes are computed from, and the indexes themselves.
SOURCE_FIELDS = ("phone", "email", "last_name", "first_name", "birth_date", "id_document_number")
INDEX_FIELDS = Patient.BLIND_INDEX_FIELDS


def blind_indexes_refresh(
    *,
    model: type[models.Model] = Patient,
    batch_size: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Recompute every patient's blind indexes; returns how many rows changed.

    Invariants: each batch locks its rows (SELECT ... FOR UPDATE on PostgreSQL), so an edit
    saved meanwhile is never overwritten with indexes of stale values; only the index columns
    are written. `model` is a migration's historical Patient, or the current one.
    """
    manager = model._base_manager
    # A migration's historical model may predate an index (or its source): only the columns
    # it has are read and written.
    known = {field.name for field in model._meta.get_fields()}
    sources = [name for name in SOURCE_FIELDS if name in known]
    indexes = [name for name in INDEX_FIELDS if name in known]
    # A merged profile (a tombstone) keeps blank indexes: no search may find it again.
    merged = ["merged_into"] if "merged_into" in known else []
    position = 0
    changed_rows = 0
    while True:
        with transaction.atomic():
            batch = list(
                manager.select_for_update()
                .filter(pk__gt=position)
                .order_by("pk")
                .only("pk", *sources, *indexes, *merged)[:batch_size]
            )
            if not batch:
                break
            changed = []
            for patient in batch:
                if merged and getattr(patient, "merged_into_id", None) is not None:
                    computed = dict.fromkeys(INDEX_FIELDS, "")
                else:
                    computed = blind_indexes_of(
                        **{name: getattr(patient, name) for name in sources}
                    )
                fresh = {name: value for name, value in computed.items() if name in indexes}
                if any(getattr(patient, name) != value for name, value in fresh.items()):
                    for name, value in fresh.items():
                        setattr(patient, name, value)
                    changed.append(patient)
            if changed:
                manager.bulk_update(changed, indexes)
            changed_rows += len(changed)
            position = batch[-1].pk
        if on_batch:
            on_batch(len(batch))
    return changed_rows
