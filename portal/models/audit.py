from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.choices import AuditAction

GENESIS_DIGEST = "0" * 64


class AuditEvent(models.Model):
    """An append-only record of a touch of patient data.

    No foreign keys (deleting a user or patient must never cascade into the trail); values are
    never stored, only field names. On PostgreSQL a trigger refuses UPDATE and DELETE.
    Events are chained later, in sealed blocks (`AuditSeal`), so the write path only appends.
    """

    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_public_id = models.CharField(_("actor public id"), max_length=36, blank=True)
    role = models.CharField(_("role"), max_length=20, blank=True)
    clinic_id = models.BigIntegerField(_("clinic id"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=12, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    patient_ids = models.JSONField(_("patient ids"), default=list, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    request_id = models.CharField(_("request id"), max_length=36, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def canonical(self) -> bytes:
        """The bytes the chain hashes: every column, in a fixed order and format."""
        data = {
            "id": self.pk,
            "occurred_at": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_public_id": self.actor_public_id,
            "role": self.role,
            "clinic_id": self.clinic_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "patient_ids": list(self.patient_ids or []),
            "changed_fields": list(self.changed_fields or []),
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditSeal(models.Model):
    """A sealed block of audit events, chained to the previous seal.

    A block covers the id range `first_event_id..last_event_id`. Ids are handed out before
    commit, so a range may have holes: ids of rolled-back transactions and of transactions still
    open when the block was sealed. Those are listed in `skipped_ids`; an event that commits
    later ("late") is swept into a following block and listed in its `late_ids`.
    `fingerprints` keeps the first 16 hex digits of each sealed event's digest, in sealed order,
    so verification can name the changed event. `digest` covers the previous digest, the events
    digest, the range and both id lists: changing, removing or inserting any event in a sealed
    range, or any seal, breaks the chain from there on. Insert-only, like the events (on
    PostgreSQL a trigger refuses UPDATE and DELETE); `previous_digest` is unique so two sealers
    running at once can never fork the chain.

    `digest` is an HMAC-SHA256 under the key named by `key_id` (`portal.audit_keys`; the key
    itself lives only in the environment), and it covers the key id and `sealed_at` too, so
    whoever can write the database but lacks the key cannot re-seal a rewritten range. Seals
    made before seals were keyed have an empty `key_id` and a plain SHA-256 digest: a legacy
    segment at the start of the chain (`audit_verify_chain`).
    """

    first_event_id = models.BigIntegerField(_("first event id"))
    last_event_id = models.BigIntegerField(_("last event id"), unique=True)
    event_count = models.PositiveIntegerField(_("number of events"))
    events_digest = models.CharField(_("events digest"), max_length=64)
    previous_digest = models.CharField(_("previous seal digest"), max_length=64, unique=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    sealed_at = models.DateTimeField(_("sealed at"))
    skipped_ids = models.JSONField(_("skipped event ids"), default=list, blank=True)
    late_ids = models.JSONField(_("late event ids"), default=list, blank=True)
    fingerprints = models.TextField(_("event fingerprints"), blank=True)
    key_id = models.CharField(_("key id"), max_length=16, blank=True)

    FINGERPRINT_LENGTH = 16

    class Meta:
        ordering = ["last_event_id"]
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")

    def __str__(self):
        return f"seal {self.first_event_id}..{self.last_event_id}"

    @staticmethod
    def chain_material(
        *,
        previous_digest: str,
        events_digest: str,
        first_id: int,
        last_id: int,
        count: int,
        skipped_ids: Iterable[int] = (),
        late_ids: Iterable[int] = (),
    ) -> str:
        skipped = ",".join(str(i) for i in sorted(skipped_ids))
        late = ",".join(str(i) for i in sorted(late_ids))
        return f"{previous_digest}|{events_digest}|{first_id}|{last_id}|{count}|{skipped}|{late}"

    @staticmethod
    def compute_legacy_digest(material: str) -> str:
        """The digest of a seal made before seals were keyed: anyone could recompute it."""
        return hashlib.sha256(material.encode()).hexdigest()

    @staticmethod
    def compute_keyed_digest(
        material: str, *, key: bytes, key_id: str, sealed_at: datetime.datetime
    ) -> str:
        stamp = sealed_at.astimezone(datetime.UTC).isoformat()
        return hmac.new(key, f"v2|{key_id}|{stamp}|{material}".encode(), hashlib.sha256).hexdigest()

    def expected_digest(self, key: bytes | None) -> str:
        """The digest this seal's fields call for; `key` is the key named by `key_id`."""
        material = self.chain_material(
            previous_digest=self.previous_digest,
            events_digest=self.events_digest,
            first_id=self.first_event_id,
            last_id=self.last_event_id,
            count=self.event_count,
            skipped_ids=self.skipped_ids or [],
            late_ids=self.late_ids or [],
        )
        if not self.key_id:
            return self.compute_legacy_digest(material)
        if key is None:
            raise ValueError("a keyed seal needs its key")
        return self.compute_keyed_digest(
            material, key=key, key_id=self.key_id, sealed_at=self.sealed_at
        )

    @staticmethod
    def compute_events_digest(events: Iterable[AuditEvent]) -> str:
        """One digest over (id, event digest) pairs, in ascending id order."""
        hasher = hashlib.sha256()
        for event in sorted(events, key=lambda e: e.pk):
            hasher.update(f"{event.pk}:{event.digest()}\n".encode())
        return hasher.hexdigest()

    def sealed_ids(self) -> list[int]:
        """Ids this block vouches for: its range without the holes, plus swept late events."""
        skipped = set(self.skipped_ids or [])
        in_range = (i for i in range(self.first_event_id, self.last_event_id + 1))
        return sorted({i for i in in_range if i not in skipped} | set(self.late_ids or []))

    def fingerprint_of(self, position: int) -> str:
        size = self.FINGERPRINT_LENGTH
        return self.fingerprints[position * size : (position + 1) * size]


class MaintenanceCheckpoint(models.Model):
    """Where a long maintenance job (key rotation...) stopped, so a re-run resumes there."""

    name = models.CharField(_("job"), max_length=200, unique=True)
    position = models.BigIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("maintenance checkpoint")
        verbose_name_plural = _("maintenance checkpoints")

    def __str__(self):
        return f"{self.name} @ {self.position}"
