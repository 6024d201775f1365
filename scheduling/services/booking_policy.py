"""A clinic's booking policy (booking mode, notice, horizon, deadlines, limits, hold time,
reminders, contact hours, prepaid services), edited from the clinic admin pages in one audited
transaction. The free-slot engine reads it on every request, so a change applies at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.errors import InvalidInput
from scheduling.models import BookingPolicy, Service
from scheduling.services.schedule_checks import require_capability

# The booking policy's fields a clinic admin edits (all but the clinic itself).
POLICY_FIELDS = (
    "mode",
    "min_notice_minutes",
    "horizon_days",
    "reschedule_deadline_hours",
    "cancel_deadline_hours",
    "max_active_per_patient",
    "max_reschedules",
    "rollback_window_minutes",
    "hold_ttl_minutes",
    "reminder_offsets_minutes",
    "contact_hours_start",
    "contact_hours_end",
)


@transaction.atomic
def booking_policy_update(
    *,
    clinic: Clinic,
    actor: RequestUser,
    values: Mapping[str, Any],
    prepaid_services: Iterable[Service] | None = None,
) -> tuple[BookingPolicy, list[str]]:
    """Set the clinic's booking policy (a row is created for a clinic on the defaults);
    (the policy, the names of the fields that changed).

    `values` holds fields of `POLICY_FIELDS`; any other name is refused. The model's own
    validators decide the bounds (horizon 1–730 days, reminder offsets...): an invalid value
    raises `InvalidInput` with their message and nothing is saved. Needs `catalogue.manage`.
    """
    require_capability(actor, "catalogue.manage", clinic)
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(code="unknown_field", field=unknown[0])
    policy, created = BookingPolicy.objects.select_for_update().get_or_create(clinic=clinic)
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    for name in changed:
        setattr(policy, name, values[name])
    try:
        policy.full_clean(exclude=["clinic"])
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="invalid_policy") from exc
    if changed:
        policy.save(update_fields=[*changed, "updated_at"])
    if prepaid_services is not None:
        wanted = {service.pk for service in prepaid_services}
        if wanted != set(policy.prepaid_services.values_list("pk", flat=True)):
            policy.prepaid_services.set(list(wanted))
            changed.append("prepaid_services")
    if changed or created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            object_type="scheduling.bookingpolicy",
            object_id=policy.pk,
            changed_fields=changed,
            clinic=clinic,
        )
    return policy, changed
