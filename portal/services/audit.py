"""Writing the audit trail. Every touch of patient data goes through `audit_record`.

The write path only appends one row: chaining happens later, in sealed blocks
(`audit_seal_pending`), so no global lock serialises writers (DESIGN.md, performance notes).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import audit_keys, request_context
from portal.audit_sink import sink_write
from portal.models import AuditEvent, AuditSeal, Clinic, User
from portal.models.audit import GENESIS_DIGEST
from portal.types import Actor

logger = logging.getLogger(__name__)

# How many recent seals are searched for holes whose events committed late. At one seal a
# minute this gives a transaction about this many minutes to commit before its audit event is
# reported as an unexplained extra row in a sealed range.
LATE_SWEEP_SEALS = 60


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | uuid.UUID = "",
    patient_ids: Iterable[str | uuid.UUID] = (),
    changed_fields: Iterable[str] = (),
    role: str | None = None,
    clinic: Clinic | int | None = None,
) -> AuditEvent:
    """Append one audit event (the arguments of `audit_event`). `changed_fields` holds names
    only, never values.

    Without `role`, the role and (for one-clinic staff) the clinic are derived from the actor's
    memberships; an explicit `clinic` wins over the derived one.

    `actor` may be None for system actions; IP, user agent and request id come from the
    current request context (set by `portal.middleware.RequestContextMiddleware`).
    """
    event = audit_event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_ids=patient_ids,
        changed_fields=changed_fields,
        role=role,
        clinic=clinic,
    )
    event.save(force_insert=True)
    return event


def audit_event(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | uuid.UUID = "",
    patient_ids: Iterable[str | uuid.UUID] = (),
    changed_fields: Iterable[str] = (),
    role: str | None = None,
    clinic: Clinic | int | None = None,
) -> AuditEvent:
    """The unsaved event `audit_record` would append, for callers that insert a change's whole
    trail in one round trip (`scheduling.services.history`)."""
    if role is None:
        # Derived from the actor's memberships unless the caller states the capacity.
        role, derived_clinic = audit_role_and_clinic(actor)
        clinic = clinic if clinic is not None else derived_clinic
    ctx = request_context.current()
    # Only a signed-in login is named: AnonymousUser and None (the system) leave it blank.
    login = actor if isinstance(actor, User) else None
    return AuditEvent(
        occurred_at=timezone.now(),
        actor_id=login.pk if login is not None else None,
        actor_public_id=str(login.public_id) if login is not None else "",
        role=role,
        clinic_id=getattr(clinic, "pk", clinic),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        patient_ids=sorted(str(p) for p in patient_ids),
        changed_fields=sorted(set(changed_fields)),
        ip_address=ctx.ip_address,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
    )


def audit_role_and_clinic(actor: Actor) -> tuple[str, int | None]:
    """The role an actor acts in, and their clinic when they work in exactly one."""
    from portal import permissions

    if actor is None or not getattr(actor, "is_authenticated", False):
        return "", None
    role = permissions.primary_role(actor) or ""
    clinic = permissions.sole_clinic(actor)
    return role, clinic.pk if clinic is not None else None


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Bulk path (imports, demo seeding): callers build unsaved events; one INSERT."""
    return AuditEvent.objects.bulk_create(events, batch_size=1000)


def audit_seal_pending(
    *, now: datetime.datetime | None = None, max_events: int = 5000
) -> AuditSeal | None:
    """Seal the unsealed events older than `AUDIT_SEAL_GRACE` into one block; None if none.

    Invariants:
    - The seal's digest is an HMAC under `AUDIT_SEAL_KEY` (`portal.audit_keys`), and its head
      goes to the sink outside the database (`portal.audit_sink`) once the seal is committed.
      The seal commits on its own (a durable transaction): a head never names a seal that a
      caller's transaction could still roll back.
    - Nothing pending costs two indexed single-row reads: the beat calls this every
      `AUDIT_SEAL_INTERVAL`.
    - Blocks tile the id space: a block starts right after the previous block's last id (the
      first block at the oldest event), so every id belongs to exactly one range.
    - Only a prefix (in id order) of events all older than the grace period is sealed: ids are
      allocated before commit, so a young event may still have older uncommitted neighbours.
    - Holes in the range (rolled back, or still uncommitted) are recorded in `skipped_ids`; a hole
      that later fills ("late" commit) is swept into the next block's `late_ids`.
    - Only INSERTs: the write path and the append-only triggers are untouched; a concurrent
      sealer loses on the unique `previous_digest` and this call returns None.
    """
    now = now or timezone.now()
    cutoff = now - settings.AUDIT_SEAL_GRACE
    previous = AuditSeal.objects.order_by("-last_event_id").first()
    after_id = previous.last_event_id if previous else 0
    pending = AuditEvent.objects.filter(pk__gt=after_id).order_by("pk")
    oldest = pending.values_list("occurred_at", flat=True).first()
    if oldest is None or oldest > cutoff:
        return None
    candidates = pending[:max_events]
    block: list[AuditEvent] = []
    for event in candidates:
        if event.occurred_at > cutoff:
            break
        block.append(event)
    if not block:
        return None
    first_id = after_id + 1 if previous else block[0].pk
    last_id = block[-1].pk
    present = {event.pk for event in block}
    skipped = [i for i in range(first_id, last_id + 1) if i not in present]
    late = _late_events(room=max_events - len(block))
    sealed = sorted([*block, *late], key=lambda e: e.pk)
    events_digest = AuditSeal.compute_events_digest(sealed)
    previous_digest = previous.digest if previous else GENESIS_DIGEST
    late_ids = [event.pk for event in late]
    key_id, key = audit_keys.signing_key()
    seal = AuditSeal(
        first_event_id=first_id,
        last_event_id=last_id,
        event_count=len(sealed),
        events_digest=events_digest,
        previous_digest=previous_digest,
        skipped_ids=skipped,
        late_ids=late_ids,
        fingerprints="".join(event.digest()[: AuditSeal.FINGERPRINT_LENGTH] for event in sealed),
        sealed_at=now,
        key_id=key_id,
    )
    seal.digest = seal.expected_digest(key)
    try:
        with transaction.atomic(durable=True):
            seal.save(force_insert=True)
    except IntegrityError:
        # Another sealer chained a block to the same predecessor first; it wins.
        logger.info("audit seal skipped: a concurrent sealer extended the chain first")
        return None
    sink_write(seal)
    return seal


def _late_events(*, room: int) -> list[AuditEvent]:
    """Events that filled holes of recent seals after those were sealed, not yet swept."""
    if room <= 0:
        return []
    recent = AuditSeal.objects.order_by("-last_event_id").values_list("skipped_ids", "late_ids")[
        :LATE_SWEEP_SEALS
    ]
    holes: set[int] = set()
    swept: set[int] = set()
    for skipped_ids, late_ids in recent:
        holes.update(skipped_ids or [])
        swept.update(late_ids or [])
    pending = sorted(holes - swept)
    found: list[AuditEvent] = []
    # Chunked so a block with many holes never exceeds SQLite's bound-parameter limit.
    for start in range(0, len(pending), 500):
        chunk = pending[start : start + 500]
        found.extend(AuditEvent.objects.filter(pk__in=chunk).order_by("pk"))
        if len(found) >= room:
            break
    return found[:room]
