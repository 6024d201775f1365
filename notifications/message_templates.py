"""Write paths of the clinics' own message texts (`MessageTemplate`)."""

from __future__ import annotations

from django.db import transaction

from notifications.models import MessageTemplate
from notifications.templating import EVENTS, check_text
from portal.choices import AuditAction
from portal.models import Clinic
from portal.services.audit import audit_record

OBJECT_TYPE = "notifications.messagetemplate"


@transaction.atomic
def message_template_save(
    *,
    clinic: Clinic | None,
    event: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    actor,
) -> MessageTemplate:
    """Create or replace the text of `clinic` (None: the network default) for one event,
    channel and language, and audit it.

    Invariants: the event is editable, the channel is one it goes out on, and the subject and
    text name only the event's whitelisted placeholders (`check_text` raises ValidationError
    otherwise, and nothing is written); one row per scope × event × channel × language.
    """
    spec = EVENTS[event]
    if channel not in spec.channels:
        raise ValueError(f"{event} does not go out on {channel}")
    check_text(subject, event=spec)
    check_text(body, event=spec)
    row, created = MessageTemplate.objects.select_for_update().update_or_create(
        clinic=clinic,
        event=event,
        channel=channel,
        language=language,
        defaults={"subject": subject, "body": body, "updated_by": actor},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=row.pk,
        changed_fields=["subject", "body"],
        clinic=clinic,
    )
    return row


@transaction.atomic
def message_template_reset(
    *, clinic: Clinic | None, event: str, channel: str, language: str, actor
) -> bool:
    """Delete the scope's own text, so the network's (or the shipped) text applies again;
    False when there was none."""
    row = (
        MessageTemplate.objects.select_for_update()
        .filter(clinic=clinic, event=event, channel=channel, language=language)
        .first()
    )
    if row is None:
        return False
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type=OBJECT_TYPE,
        object_id=row.pk,
        clinic=clinic,
    )
    row.delete()
    return True
