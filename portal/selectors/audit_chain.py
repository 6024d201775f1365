"""Verifying the audit trail: the sealed chain, its keys, the sink outside the database, and
events left unsealed too long. `manage.py verify_audit_chain` prints what this finds."""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal import audit_keys
from portal.audit_sink import SealHead, SinkContents
from portal.models import AuditEvent, AuditSeal
from portal.models.audit import GENESIS_DIGEST
from portal.services.audit import LATE_SWEEP_SEALS

# Kinds of findings, in the words `verify_audit_chain` prints.
CHANGED_EVENT = "changed event"
MISSING_EVENT = "missing event"
EXTRA_EVENT = "extra event"
BROKEN_LINK = "broken seal link"
ALTERED_SEAL = "altered seal"
UNKNOWN_KEY = "unknown seal key"
UNKEYED_SEAL = "unkeyed seal"
MISSING_FROM_SINK = "seal missing from the sink"
DIFFERS_FROM_SINK = "seal differs from the sink"
GONE_FROM_DATABASE = "sink seal gone from the database"
UNREADABLE_SINK = "unreadable sink"
UNSEALED_TOO_LONG = "unsealed too long"


@dataclass(frozen=True)
class ChainProblem:
    kind: str
    seal_id: int | None
    event_id: int | None
    detail: str

    def __str__(self) -> str:
        where = []
        if self.seal_id is not None:
            where.append(f"seal #{self.seal_id}")
        if self.event_id is not None:
            where.append(f"event #{self.event_id}")
        if not where:
            return f"{self.kind}: {self.detail}"
        return f"{self.kind} at {', '.join(where)}: {self.detail}"


@dataclass
class ChainVerification:
    """What `audit_verify_chain` found. Any problem is a finding; the rest is information."""

    seals_checked: int = 0
    events_checked: int = 0
    unsealed_events: int = 0
    # Unkeyed seals accepted as the legacy segment (up to AUDIT_SEAL_LEGACY_HEAD).
    legacy_seals: int = 0
    # Whether a sink was compared, how many seal heads it holds, and how many keyed seals are
    # older than its first head (made before the sink was configured).
    sink_checked: bool = False
    sink_heads: int = 0
    seals_before_sink: int = 0
    # Events that committed after their range was sealed (a legitimate race, see
    # `audit_seal_pending`) and are waiting for the next seal to sweep them in.
    late_event_ids: list[int] = field(default_factory=list)
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def problem(self) -> ChainProblem | None:
        """The first finding: the first broken link in chain order, if the chain is broken."""
        return self.problems[0] if self.problems else None

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify_chain(
    *, sink: SinkContents | None = None, now: datetime.datetime | None = None
) -> ChainVerification:
    """Check the chain in the database, then the database against `sink` (the heads written
    outside it, if given), then that no event waits for its seal longer than the beat allows.

    The chain check recomputes every seal with its key and stops at the first break; it tells
    apart an event changed after sealing, an event deleted from a sealed range, an event
    inserted into one (extra), a seal whose own fields were changed or whose key is unknown,
    an unkeyed seal outside the legacy segment, and a seal that does not follow its
    predecessor. The sink shows what the chain cannot: seals removed from the end, and a range
    rewritten and re-sealed by someone holding the key.
    """
    result = ChainVerification()
    _verify_seals(result)
    if sink is not None:
        _verify_against_sink(result, sink)
    _find_unsealed(result, now=now or timezone.now())
    return result


def _verify_seals(result: ChainVerification) -> None:
    swept_late: set[int] = set()
    for late_ids in AuditSeal.objects.values_list("late_ids", flat=True):
        swept_late.update(late_ids or [])
    recent = set(
        AuditSeal.objects.order_by("-last_event_id").values_list("pk", flat=True)[:LATE_SWEEP_SEALS]
    )
    legacy = _LegacySegment(head=settings.AUDIT_SEAL_LEGACY_HEAD)
    keys = audit_keys.verification_keys()
    expected_previous = GENESIS_DIGEST
    previous_seal: AuditSeal | None = None
    chain_start: int | None = None
    for seal in AuditSeal.objects.order_by("last_event_id").iterator(chunk_size=50):
        result.seals_checked += 1
        problem = legacy.admit(seal, result=result) or _check_seal(
            seal,
            key=keys.get(seal.key_id),
            expected_previous=expected_previous,
            previous_seal=previous_seal,
            swept_late=swept_late,
            is_recent=seal.pk in recent,
            result=result,
        )
        if problem:
            result.problems.append(problem)
            return
        if chain_start is None:
            chain_start = seal.first_event_id
        expected_previous = seal.digest
        previous_seal = seal
    problem = legacy.finish()
    if problem:
        result.problems.append(problem)
        return
    if chain_start is not None:
        early = AuditEvent.objects.filter(pk__lt=chain_start).order_by("pk").first()
        if early is not None:
            result.problems.append(
                ChainProblem(EXTRA_EVENT, None, early.pk, "an event before the first sealed block")
            )


@dataclass
class _LegacySegment:
    """Unkeyed seals, made before seals were keyed, verify only as a prefix of the chain that
    ends at the seal whose digest the operator recorded in AUDIT_SEAL_LEGACY_HEAD: that
    setting, outside the database, pins the segment, so nobody can re-seal the trail without a
    key and pass it off as legacy."""

    head: str
    reached: bool = False

    def admit(self, seal: AuditSeal, *, result: ChainVerification) -> ChainProblem | None:
        if seal.key_id:
            if self.head and not self.reached:
                return ChainProblem(
                    UNKEYED_SEAL,
                    seal.pk,
                    None,
                    "AUDIT_SEAL_LEGACY_HEAD is not the digest of the last unkeyed seal before it",
                )
            return None
        if self.reached:
            return ChainProblem(
                UNKEYED_SEAL, seal.pk, None, "a seal without key after the legacy head"
            )
        if not self.head:
            return ChainProblem(UNKEYED_SEAL, seal.pk, None, _legacy_hint())
        result.legacy_seals += 1
        self.reached = hmac.compare_digest(seal.digest, self.head)
        return None

    def finish(self) -> ChainProblem | None:
        if self.head and not self.reached:
            return ChainProblem(
                UNKEYED_SEAL, None, None, "AUDIT_SEAL_LEGACY_HEAD names no seal of the chain"
            )
        return None


def _legacy_hint() -> str:
    """Where the legacy segment ends, as the first keyed seal vouches for it (its HMAC covers
    the digest it follows): the value to check against records and set."""
    text = "a seal without key, and AUDIT_SEAL_LEGACY_HEAD is not set"
    first_keyed = AuditSeal.objects.exclude(key_id="").order_by("last_event_id").first()
    if first_keyed is None or first_keyed.previous_digest == GENESIS_DIGEST:
        return text
    return (
        f"{text}; if the unkeyed seals predate keyed sealing, set it to "
        f"{first_keyed.previous_digest} (the digest keyed seal #{first_keyed.pk} follows)"
    )


def _check_seal(
    seal: AuditSeal,
    *,
    key: bytes | None,
    expected_previous: str,
    previous_seal: AuditSeal | None,
    swept_late: set[int],
    is_recent: bool,
    result: ChainVerification,
) -> ChainProblem | None:
    if seal.previous_digest != expected_previous:
        after = f"seal #{previous_seal.pk}" if previous_seal else "the start of the chain"
        return ChainProblem(
            BROKEN_LINK, seal.pk, None, f"does not follow {after} (a seal removed or inserted)"
        )
    if previous_seal and seal.first_event_id != previous_seal.last_event_id + 1:
        return ChainProblem(
            ALTERED_SEAL, seal.pk, None, "its range does not continue the previous block"
        )
    if seal.key_id and key is None:
        return ChainProblem(
            UNKNOWN_KEY,
            seal.pk,
            None,
            f"made with key {seal.key_id}, which is neither AUDIT_SEAL_KEY nor one of "
            "AUDIT_SEAL_RETIRED_KEYS",
        )
    if not hmac.compare_digest(seal.expected_digest(key), seal.digest):
        return ChainProblem(ALTERED_SEAL, seal.pk, None, "its fields do not match its digest")
    return _check_events(seal, swept_late=swept_late, is_recent=is_recent, result=result)


def _check_events(
    seal: AuditSeal, *, swept_late: set[int], is_recent: bool, result: ChainVerification
) -> ChainProblem | None:
    expected_ids = seal.sealed_ids()
    size = AuditSeal.FINGERPRINT_LENGTH
    if len(expected_ids) != seal.event_count or len(seal.fingerprints) != size * len(expected_ids):
        return ChainProblem(ALTERED_SEAL, seal.pk, None, "its event list was altered")
    events = {
        event.pk: event
        for event in AuditEvent.objects.filter(
            Q(pk__range=(seal.first_event_id, seal.last_event_id)) | Q(pk__in=seal.late_ids or [])
        )
    }
    position = {event_id: index for index, event_id in enumerate(expected_ids)}
    for event_id in sorted(set(position) | set(events)):
        if event_id in position:
            event = events.get(event_id)
            if event is None:
                return ChainProblem(MISSING_EVENT, seal.pk, event_id, "deleted after sealing")
            if event.digest()[:size] != seal.fingerprint_of(position[event_id]):
                return ChainProblem(CHANGED_EVENT, seal.pk, event_id, "changed after sealing")
        elif event_id in swept_late:
            continue  # A later block vouches for it.
        elif is_recent and events[event_id].occurred_at <= seal.sealed_at:
            result.late_event_ids.append(event_id)
        else:
            return ChainProblem(
                EXTRA_EVENT, seal.pk, event_id, "appeared in a sealed range after sealing"
            )
    sealed = [events[event_id] for event_id in expected_ids]
    if AuditSeal.compute_events_digest(sealed) != seal.events_digest:
        return ChainProblem(ALTERED_SEAL, seal.pk, None, "events digest does not match")
    result.events_checked += len(expected_ids)
    return None


def _verify_against_sink(result: ChainVerification, sink: SinkContents) -> None:
    """Every keyed seal has its head in the sink, with the same range and digest, and every
    head in the sink names a seal the database still has."""
    result.sink_checked = True
    heads = _heads_by_seal(sink, result)
    # Keyed seals older than the sink's first head were made before the sink was configured.
    sink_start = min(heads) if heads else None
    in_database: set[int] = set()
    seals = AuditSeal.objects.order_by("last_event_id").values_list(
        "pk", "first_event_id", "last_event_id", "event_count", "key_id", "digest"
    )
    for pk, first, last, count, key_id, digest in seals.iterator(chunk_size=2000):
        in_database.add(pk)
        recorded = heads.get(pk)
        if recorded is None:
            if not key_id:
                continue  # Legacy seals predate the sink.
            if sink_start is not None and pk < sink_start:
                result.seals_before_sink += 1
                continue
            result.problems.append(
                ChainProblem(
                    MISSING_FROM_SINK,
                    pk,
                    None,
                    f"events {first}..{last} were sealed in the database but never reached the "
                    "sink (a forged seal, or a sealer that stopped between commit and sink)",
                )
            )
        elif (recorded.first, recorded.last, recorded.count, recorded.key, recorded.digest) != (
            first,
            last,
            count,
            key_id,
            digest,
        ):
            result.problems.append(
                ChainProblem(
                    DIFFERS_FROM_SINK,
                    pk,
                    None,
                    f"the sink recorded events {recorded.first}..{recorded.last} with digest "
                    f"{recorded.digest[:16]}…, the database holds {first}..{last} with "
                    f"{digest[:16]}… (rewritten and re-sealed)",
                )
            )
    for seal_id in sorted(set(heads) - in_database):
        gone = heads[seal_id]
        result.problems.append(
            ChainProblem(
                GONE_FROM_DATABASE,
                seal_id,
                None,
                f"the sink recorded it for events {gone.first}..{gone.last}; the database no "
                "longer has it",
            )
        )


def _heads_by_seal(sink: SinkContents, result: ChainVerification) -> dict[int, SealHead]:
    """The sink's heads by seal id; unreadable lines and conflicting heads are findings."""
    for where in sink.unreadable:
        result.problems.append(ChainProblem(UNREADABLE_SINK, None, None, where))
    heads: dict[int, SealHead] = {}
    for head in sink.heads:
        if heads.setdefault(head.seal, head) != head:
            result.problems.append(
                ChainProblem(DIFFERS_FROM_SINK, head.seal, None, "the sink holds two heads for it")
            )
    result.sink_heads = len(heads)
    return heads


def _find_unsealed(result: ChainVerification, *, now: datetime.datetime) -> None:
    """Events after the last seal; those older than the sealer allows are a finding. The
    sealer seals events older than AUDIT_SEAL_GRACE every AUDIT_SEAL_INTERVAL: one missed
    beat is tolerated."""
    allowed: datetime.timedelta = settings.AUDIT_SEAL_GRACE + 2 * settings.AUDIT_SEAL_INTERVAL
    last_sealed = (
        AuditSeal.objects.order_by("-last_event_id").values_list("last_event_id", flat=True).first()
    )
    unsealed = AuditEvent.objects.filter(pk__gt=last_sealed or 0)
    result.unsealed_events = unsealed.count()
    stale = unsealed.filter(occurred_at__lt=now - allowed)
    oldest = stale.order_by("pk").values_list("pk", flat=True).first()
    if oldest is not None:
        result.problems.append(
            ChainProblem(
                UNSEALED_TOO_LONG,
                None,
                oldest,
                f"{stale.count()} events older than {int(allowed.total_seconds())} s are not "
                "sealed (is the beat running the sealer?)",
            )
        )
