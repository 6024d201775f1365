"""Writing the audit trail. Every touch of patient data goes through `audit_record`.

The write path only appends one row: chaining happens later, in sealed blocks
(`audit_seal_pending`), so no global lock serialises writers (DESIGN.md, performance notes).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from portal import request_context
from portal.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: str = "",
    patient_ids: Iterable = (),
    changed_fields: Iterable[str] = (),
    role: str = "",
    clinic=None,
) -> AuditEvent:
    """Append one audit event. `changed_fields` holds names only, never values.

    `actor` may be None for system actions; IP, user agent and request id come from the
    current request context (set by `portal.middleware.RequestContextMiddleware`).
    """
    ctx = request_context.current()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor_id=actor.pk if authenticated else None,
        actor_public_id=str(actor.public_id) if authenticated else "",
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


def audit_role_and_clinic(actor) -> tuple[str, int | None]:
    """The role an actor acts in, and their clinic when they work in exactly one."""
    from portal import permissions

    if actor is None or not getattr(actor, "is_authenticated", False):
        return "", None
    role = permissions.primary_role(actor) or ""
    clinic_ids = {m.clinic_id for m in permissions.memberships_of(actor)}
    clinic_id = clinic_ids.pop() if len(clinic_ids) == 1 else None
    return role, clinic_id


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Bulk path (imports, demo seeding): callers build unsaved events; one INSERT."""
    return AuditEvent.objects.bulk_create(events, batch_size=1000)
