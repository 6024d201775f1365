"""Read paths of the audit trail: the audit log pages (the chain check: `audit_chain`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from portal import permissions
from portal.choices import PATIENT_ROLE, Role
from portal.models import AuditEvent, Clinic, Patient, User
from portal.types import RequestUser


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
