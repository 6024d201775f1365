"""Tasks on leads: a follow-up with a due time, owned by one CRM user.

Invariants: the owner works the CRM in the lead's clinic (a lead without a clinic needs a
network-wide owner); the task's text is encrypted (it may name the person); every change is an
audit event without values.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.errors import LeadInvalid
from crm.models import Lead, LeadTask
from crm.permissions import CAPABILITY
from portal import permissions
from portal.choices import AuditAction
from portal.models import User
from portal.services.audit import audit_record
from portal.types import Actor

MAX_TEXT = 200
# A due time further ahead is a typo, not a plan.
MAX_AHEAD = datetime.timedelta(days=366)
OBJECT_TYPE = "crm.lead_task"


def may_own(user: User, lead: Lead) -> bool:
    """Whether `user` may be given tasks on `lead`."""
    if lead.clinic_id is None:
        return permissions.clinic_ids_with(user, CAPABILITY) is None
    return permissions.has_capability(user, CAPABILITY, lead.clinic_id)


def _audit(task: LeadTask, actor: Actor, action: str, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=task.pk,
        changed_fields=fields,
        clinic=task.lead.clinic_id,
    )


@transaction.atomic
def lead_task_add(
    *,
    lead: Lead,
    text: str,
    due_at: datetime.datetime | None,
    owner: User | None,
    actor: Actor,
    now: datetime.datetime | None = None,
) -> LeadTask:
    now = now or timezone.now()
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise LeadInvalid(
            _("Say what to do, up to %(max)d characters.") % {"max": MAX_TEXT}, field="text"
        )
    if due_at is None or due_at > now + MAX_AHEAD:
        raise LeadInvalid(_("Give a due time within a year."), field="due_at")
    if owner is None or not may_own(owner, lead):
        raise LeadInvalid(_("Choose an owner who works with this lead's clinic."), field="owner")
    task = LeadTask.objects.create(
        lead=lead,
        text=text,
        due_at=due_at,
        owner=owner,
        created_by=actor if isinstance(actor, User) else None,
    )
    _audit(task, actor, AuditAction.CREATE, ["text", "due_at", "owner"])
    return task


@transaction.atomic
def lead_task_set_done(
    *, task: LeadTask, done: bool, actor: Actor, now: datetime.datetime | None = None
) -> LeadTask:
    """Mark the task done (or not done again); nothing changes when it already is."""
    if done == (task.done_at is not None):
        return task
    task.done_at = (now or timezone.now()) if done else None
    task.done_by = actor if done and isinstance(actor, User) else None
    task.save(update_fields=["done_at", "done_by"])
    _audit(task, actor, AuditAction.UPDATE, ["done_at", "done_by"])
    return task
