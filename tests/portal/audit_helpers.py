"""Helpers for audit-trail tests: tampering needs the append-only triggers out of the way."""

from __future__ import annotations

import contextlib

from django.db import connection
from django.utils import timezone

from portal.models import AuditEvent, AuditSeal
from portal.models.audit import GENESIS_DIGEST

AUDIT_TABLES = ("portal_auditevent", "portal_auditseal")


@contextlib.contextmanager
def audit_triggers_disabled():
    """Let a test play the attacker with direct SQL. On PostgreSQL the append-only triggers are
    disabled inside the test's transaction and re-enabled after; SQLite has none."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def tamper(sql, params=()):
    """Run `sql` as the database superuser would to rewrite the trail: the append-only
    triggers disabled (ALTER TABLE ... DISABLE TRIGGER on PostgreSQL), raw SQL, no ORM."""
    with audit_triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def reseal_in_place(seal, *, key):
    """Recompute a seal row over the events its range holds now, as someone who rewrote them
    would: under `key`, keeping the seal's key id (the seal key, or a guess at it), or with None
    as an unkeyed seal (no key needed). The chain stays consistent only if `seal` is the last."""
    seal = AuditSeal.objects.get(pk=seal.pk)
    events = list(AuditEvent.objects.filter(pk__in=seal.sealed_ids()).order_by("pk"))
    seal.events_digest = AuditSeal.compute_events_digest(events)
    seal.fingerprints = "".join(e.digest()[: AuditSeal.FINGERPRINT_LENGTH] for e in events)
    seal.key_id = seal.key_id if key else ""
    seal.digest = seal.expected_digest(key)
    tamper(
        "UPDATE portal_auditseal SET events_digest = %s, fingerprints = %s, key_id = %s, "
        "digest = %s WHERE id = %s",
        [seal.events_digest, seal.fingerprints, seal.key_id, seal.digest, seal.pk],
    )
    return seal


def legacy_seal(events, *, previous=None):
    """A seal over `events` as the version before keyed seals made it: no key id, SHA-256."""
    events = sorted(events, key=lambda e: e.pk)
    first_id = previous.last_event_id + 1 if previous else events[0].pk
    last_id = events[-1].pk
    present = {e.pk for e in events}
    skipped = [i for i in range(first_id, last_id + 1) if i not in present]
    previous_digest = previous.digest if previous else GENESIS_DIGEST
    events_digest = AuditSeal.compute_events_digest(events)
    material = AuditSeal.chain_material(
        previous_digest=previous_digest,
        events_digest=events_digest,
        first_id=first_id,
        last_id=last_id,
        count=len(events),
        skipped_ids=skipped,
    )
    return AuditSeal.objects.create(
        first_event_id=first_id,
        last_event_id=last_id,
        event_count=len(events),
        events_digest=events_digest,
        previous_digest=previous_digest,
        digest=AuditSeal.compute_legacy_digest(material),
        sealed_at=timezone.now(),
        skipped_ids=skipped,
        fingerprints="".join(e.digest()[: AuditSeal.FINGERPRINT_LENGTH] for e in events),
    )
