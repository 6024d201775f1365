"""Read paths of the audit trail: the chain check and the audit log pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from portal import permissions
from portal.choices import PATIENT_ROLE, Role
from portal.models import AuditEvent, AuditSeal, Clinic, Patient, User
from portal.models.audit import GENESIS_DIGEST
from portal.services.audit import LATE_SWEEP_SEALS
from portal.types import RequestUser

# Kinds of chain problems, in the words `verify_audit_chain` prints.
CHANGED_EVENT = "changed event"
MISSING_EVENT = "missing event"
EXTRA_EVENT = "extra event"
BROKEN_LINK = "broken seal link"
ALTERED_SEAL = "altered seal"


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
        return f"{self.kind} at {', '.join(where) or 'start of chain'}: {self.detail}"


@dataclass
class ChainVerification:
    """What `audit_verify_chain` found. `problem` is the first broken link, in chain order."""

    seals_checked: int = 0
    events_checked: int = 0
    unsealed_events: int = 0
    # Events that committed after their range was sealed (a legitimate race, see
    # `audit_seal_pending`) and are waiting for the next seal to sweep them in.
    late_event_ids: list[int] = field(default_factory=list)
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_verify_chain() -> ChainVerification:
    """Recompute every sealed block and its link to the previous one; stop at the first break.

    Tells apart: an event changed after sealing, an event deleted from a sealed range, an event
    inserted into a sealed range (extra), a seal whose own fields were changed, and a seal that
    does not follow its predecessor (a seal removed, inserted or re-chained). An event that
    filled a hole of a recent block and happened before that block was sealed is a late commit,
    not tampering: it is listed in `late_event_ids` until the next seal sweeps it in.
    """
    result = ChainVerification()
    swept_late: set[int] = set()
    for late_ids in AuditSeal.objects.values_list("late_ids", flat=True):
        swept_late.update(late_ids or [])
    recent = set(
        AuditSeal.objects.order_by("-last_event_id").values_list("pk", flat=True)[:LATE_SWEEP_SEALS]
    )
    expected_previous = GENESIS_DIGEST
    previous_seal: AuditSeal | None = None
    chain_start: int | None = None
    for seal in AuditSeal.objects.order_by("last_event_id").iterator(chunk_size=50):
        result.seals_checked += 1
        problem = _check_seal(
            seal,
            expected_previous=expected_previous,
            previous_seal=previous_seal,
            swept_late=swept_late,
            is_recent=seal.pk in recent,
            result=result,
        )
        if problem:
            result.problem = problem
            return result
        if chain_start is None:
            chain_start = seal.first_event_id
        expected_previous = seal.digest
        previous_seal = seal
    if chain_start is not None:
        early = AuditEvent.objects.filter(pk__lt=chain_start).order_by("pk").first()
        if early is not None:
            result.problem = ChainProblem(
                EXTRA_EVENT, None, early.pk, "an event before the first sealed block"
            )
            return result
    after = previous_seal.last_event_id if previous_seal else 0
    result.unsealed_events = AuditEvent.objects.filter(pk__gt=after).count()
    return result


def _check_seal(
    seal: AuditSeal,
    *,
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
    recomputed = AuditSeal.compute_digest(
        previous_digest=seal.previous_digest,
        events_digest=seal.events_digest,
        first_id=seal.first_event_id,
        last_id=seal.last_event_id,
        count=seal.event_count,
        skipped_ids=seal.skipped_ids or [],
        late_ids=seal.late_ids or [],
    )
    if recomputed != seal.digest:
        return ChainProblem(ALTERED_SEAL, seal.pk, None, "its fields do not match its digest")
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


# --- The audit log page ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    """One audit event with the names a reader needs, resolved in bulk."""

    event: AuditEvent
    actor_label: str
    clinic_label: str

    @property
    def role_label(self) -> str:
        """The actor's role in the reader's language; events keep the raw code."""
        role = self.event.role
        if role == PATIENT_ROLE:
            return gettext("Patient")
        return str(Role(role).label) if role in Role.values else role


def audit_events(
    *,
    user: RequestUser,
    patient_public_id: uuid.UUID | None = None,
    actor: str = "",
    action: str = "",
) -> QuerySet[AuditEvent]:
    """Audit events newest first, for holders of `audit.view`, filtered as given.

    `actor` is a user's e-mail or public id; an unknown one matches nothing.
    """
    permissions.require_capability(user, "audit.view")
    qs = AuditEvent.objects.order_by("-pk")
    if patient_public_id:
        qs = qs.filter(_mentions_patient(str(patient_public_id)))
    if actor:
        qs = qs.filter(_actor_condition(actor))
    if action:
        qs = qs.filter(action=action)
    return qs


def audit_events_for_patient(
    *, user: RequestUser, patient: Patient, limit: int = 10
) -> list[AuditRow]:
    """The latest events naming `patient`, for the card; empty for users without `audit.view`."""
    if not permissions.has_capability(user, "audit.view"):
        return []
    events = list(
        AuditEvent.objects.filter(_mentions_patient(str(patient.public_id))).order_by("-pk")[:limit]
    )
    return audit_describe(events)


def audit_describe(events: list[AuditEvent]) -> list[AuditRow]:
    """Actor and clinic names for a page of events: two queries whatever the page size."""
    actor_ids = {e.actor_id for e in events if e.actor_id}
    clinic_ids = {e.clinic_id for e in events if e.clinic_id}
    actors = {
        u.pk: u
        for u in User.objects.filter(pk__in=actor_ids).only(
            "pk", "email", "display_name", "public_id"
        )
    }
    clinics = dict(Clinic.objects.filter(pk__in=clinic_ids).values_list("pk", "name"))
    rows = []
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id is not None else None
        if actor is not None:
            actor_label = actor.display_name or actor.email or str(actor.public_id)
        elif event.actor_id:
            actor_label = f"#{event.actor_id}"
        else:
            actor_label = ""
        clinic_label = clinics.get(event.clinic_id, "") if event.clinic_id is not None else ""
        rows.append(AuditRow(event, actor_label, clinic_label))
    return rows


def _mentions_patient(public_id: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(patient_ids__contains=[public_id])
    # SQLite has no JSON containment; a whole UUID cannot be a substring of another one.
    return Q(patient_ids__icontains=f'"{public_id}"')


def _actor_condition(actor: str) -> Q:
    actor = actor.strip()
    try:
        return Q(actor_public_id=str(uuid.UUID(actor)))
    except ValueError:
        pass
    user_id = User.objects.filter(email__iexact=actor).values_list("pk", flat=True).first()
    return Q(actor_id=user_id) if user_id else Q(pk__in=[])
