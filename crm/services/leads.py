"""Recording leads and moving them through the pipeline.

Invariants: a lead's contact details are stored encrypted with blind indexes beside them; the
same person enquiring again within `REPEAT_WINDOW` adds a "came back" line to their open lead
instead of a second lead; a lead is linked to a patient only when exactly one profile has its
phone (or e-mail), never by creating a profile; every change is a timeline line and an audit
event without values.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import LeadEventKind, LeadSource, StageKind
from crm.errors import LeadInvalid
from crm.models import Lead, LeadEvent, PipelineStage
from portal.choices import AuditAction
from portal.crypto import blind_index
from portal.models import Clinic, Patient, User
from portal.models.patients import BIDX_EMAIL, BIDX_PHONE
from portal.normalize import clean_name, normalize_email, normalize_phone
from portal.services.audit import audit_record
from portal.types import Actor

REPEAT_WINDOW = datetime.timedelta(days=30)
MAX_NAME = 150
MAX_COMMENT = 1000
# The first-touch fields a form, a call or an import may carry, with their longest length.
ATTRIBUTION_FIELDS = {
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 150,
    "utm_content": 150,
    "utm_term": 150,
    "ym_client_id": 40,
    "yclid": 40,
    "roistat_visit": 40,
    "calltouch_session_id": 40,
    "comagic_visitor_id": 40,
    "landing_url": 500,
    "tracking_number": 16,
}


def _actor_user(actor: Actor) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# The network's default pipeline: (code, order, kind), as the first migration creates it.
DEFAULT_STAGES = (
    ("new", 10, StageKind.OPEN),
    ("contacted", 20, StageKind.OPEN),
    ("booked", 30, StageKind.WON),
    ("lost", 40, StageKind.LOST),
)


def pipeline_of(clinic: Clinic | None) -> list[PipelineStage]:
    """The stages leads of `clinic` move through: the clinic's own, else the network's."""
    if clinic is not None:
        own = list(PipelineStage.objects.filter(clinic=clinic))
        if own:
            return own
    network = list(PipelineStage.objects.filter(clinic__isnull=True))
    if not network:
        # A database emptied of them since the migration (a flush, a clean-up by hand) gets
        # the defaults back rather than refusing every enquiry.
        for code, order, kind in DEFAULT_STAGES:
            PipelineStage.objects.get_or_create(
                clinic=None, code=code, defaults={"order": order, "kind": kind}
            )
        network = list(PipelineStage.objects.filter(clinic__isnull=True))
    return network


def _first_stage(clinic: Clinic | None, kind: str = StageKind.OPEN) -> PipelineStage:
    for stage in pipeline_of(clinic):
        if stage.kind == kind:
            return stage
    raise LeadInvalid(_("The lead pipeline has no stage of this kind; ask an administrator."))


def _clean_contacts(name: str, phone: str, email: str, comment: str) -> tuple[str, str, str, str]:
    name = clean_name(name or "")
    if len(name) > MAX_NAME:
        raise LeadInvalid(_("The name is too long."), field="name")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise LeadInvalid(
            _("Keep the comment under %(max)d characters.") % {"max": MAX_COMMENT},
            field="comment",
        )
    phone = (phone or "").strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            raise LeadInvalid(exc.messages[0], field="phone") from exc
    email = (email or "").strip()
    if email:
        try:
            email = normalize_email(email)
        except ValidationError as exc:
            raise LeadInvalid(exc.messages[0], field="email") from exc
    if not phone and not email:
        raise LeadInvalid(_("Leave a phone number or an e-mail address."), field="phone")
    return name, phone, email, comment


def _clean_attribution(attribution: Mapping[str, str]) -> dict[str, str]:
    # Unknown keys are dropped; known ones are cut to their column (ids from ad systems are
    # short; a longer value is garbage, not worth refusing a patient's enquiry for).
    return {
        key: str(attribution.get(key) or "").strip()[:length]
        for key, length in ATTRIBUTION_FIELDS.items()
    }


def patient_matching(*, phone_bidx: str, email_bidx: str) -> Patient | None:
    """The one profile with this phone (else e-mail) index; None when none or several match."""
    for column, value in (("phone_bidx", phone_bidx), ("email_bidx", email_bidx)):
        if not value:
            continue
        found = list(Patient.objects.filter(**{column: value}).only("pk")[:2])
        if len(found) == 1:
            return found[0]
    return None


def _event(
    lead: Lead,
    kind: str,
    actor: Actor,
    *,
    now: datetime.datetime,
    stage: PipelineStage | None = None,
    note: str = "",
) -> LeadEvent:
    return LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        actor=_actor_user(actor),
        stage=stage,
        note=note,
        occurred_at=now,
    )


def _audit(lead: Lead, actor: Actor, action: str, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="crm.lead",
        object_id=lead.public_id,
        patient_ids=[lead.patient.public_id] if lead.patient is not None else [],
        changed_fields=fields,
        clinic=lead.clinic_id,
    )


@transaction.atomic
def lead_create(
    *,
    source: str,
    actor: Actor,
    clinic: Clinic | None = None,
    name: str = "",
    phone: str = "",
    email: str = "",
    comment: str = "",
    attribution: Mapping[str, str] | None = None,
    now: datetime.datetime | None = None,
) -> tuple[Lead, bool]:
    """Record an enquiry; (the lead, whether it is new). The same phone or e-mail with an open
    lead from the last 30 days returns that lead with a "came back" line (its first touch
    stays as it was)."""
    if source not in LeadSource.values:
        raise LeadInvalid(field="source")
    now = now or timezone.now()
    name, phone, email, comment = _clean_contacts(name, phone, email, comment)
    phone_bidx = blind_index(BIDX_PHONE, phone) if phone else ""
    email_bidx = blind_index(BIDX_EMAIL, email) if email else ""
    same_person = Q()
    if phone_bidx:
        same_person |= Q(phone_bidx=phone_bidx)
    if email_bidx:
        same_person |= Q(email_bidx=email_bidx)
    existing = (
        Lead.objects.select_for_update()
        .filter(same_person, closed_at__isnull=True, created_at__gte=now - REPEAT_WINDOW)
        .order_by("-created_at")
        .first()
    )
    touch = _clean_attribution(attribution or {})
    if existing is not None:
        existing.last_touch_at = now
        fields = ["last_touch_at"]
        if touch["utm_source"]:
            # A repeat enquiry through a campaign is that campaign's last touch.
            existing.last_utm_source = touch["utm_source"]
            existing.last_utm_campaign = touch["utm_campaign"]
            fields += ["last_utm_source", "last_utm_campaign"]
        existing.save(update_fields=fields)
        _event(existing, LeadEventKind.TOUCH, actor, now=now, note=comment)
        _audit(existing, actor, AuditAction.UPDATE, ["events", *fields])
        return existing, False
    minutes = settings.CRM_FIRST_CONTACT_MINUTES
    lead = Lead.objects.create(
        clinic=clinic,
        source=source,
        stage=_first_stage(clinic),
        patient=patient_matching(phone_bidx=phone_bidx, email_bidx=email_bidx),
        name=name,
        phone=phone,
        email=email,
        comment=comment,
        phone_bidx=phone_bidx,
        email_bidx=email_bidx,
        created_at=now,
        first_contact_due_at=now + datetime.timedelta(minutes=minutes),
        last_utm_source=touch["utm_source"],
        last_utm_campaign=touch["utm_campaign"],
        **touch,
    )
    _event(lead, LeadEventKind.CREATED, actor, now=now, stage=lead.stage, note=comment)
    if lead.patient_id:
        _event(lead, LeadEventKind.PATIENT, actor, now=now)
    _audit(lead, actor, AuditAction.CREATE, ["source", "name", "phone", "email", "comment"])
    return lead, True


@transaction.atomic
def lead_set_stage(*, lead: Lead, stage: PipelineStage, actor: Actor) -> Lead:
    """Move the lead to `stage` of its clinic's pipeline; a won or lost stage closes it, an
    open one reopens it. Moving to the stage it is in changes nothing."""
    if stage.pk not in {s.pk for s in pipeline_of(lead.clinic)}:
        raise LeadInvalid(_("Choose a stage of this lead's pipeline."), field="stage")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.stage_id == stage.pk:
        return lead
    now = timezone.now()
    lead.stage = stage
    lead.closed_at = None if stage.kind == StageKind.OPEN else now
    lead.save(update_fields=["stage", "closed_at"])
    _event(lead, LeadEventKind.STAGE, actor, now=now, stage=stage)
    _audit(lead, actor, AuditAction.UPDATE, ["stage", "closed_at"])
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, owner: User | None, actor: Actor) -> Lead:
    """Give the lead to `owner` (a user who works the CRM), or to nobody with None."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.owner_id == getattr(owner, "pk", None):
        return lead
    lead.owner = owner
    lead.save(update_fields=["owner"])
    _event(lead, LeadEventKind.OWNER, actor, now=timezone.now())
    _audit(lead, actor, AuditAction.UPDATE, ["owner"])
    return lead


@transaction.atomic
def lead_add_note(*, lead: Lead, note: str, actor: Actor, contacted: bool = False) -> Lead:
    """Add a note to the timeline; `contacted` also records the first contact (which stops
    the first-contact clock) when there was none yet."""
    note = (note or "").strip()
    if not note and not contacted:
        raise LeadInvalid(_("Write the note first."), field="note")
    if len(note) > MAX_COMMENT:
        raise LeadInvalid(
            _("Keep the note under %(max)d characters.") % {"max": MAX_COMMENT}, field="note"
        )
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    now = timezone.now()
    if contacted and lead.first_contacted_at is None:
        lead.first_contacted_at = now
        lead.save(update_fields=["first_contacted_at"])
        _event(lead, LeadEventKind.CONTACTED, actor, now=now, note=note)
        _audit(lead, actor, AuditAction.UPDATE, ["first_contacted_at", "events"])
    else:
        if not note:
            raise LeadInvalid(_("Write the note first."), field="note")
        _event(lead, LeadEventKind.NOTE, actor, now=now, note=note)
        _audit(lead, actor, AuditAction.UPDATE, ["events"])
    return lead


def leads_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Flag open leads nobody contacted in time (the list shows them first, in red); how
    many were flagged. Run by Celery beat."""
    now = now or timezone.now()
    return Lead.objects.filter(
        first_contacted_at__isnull=True,
        escalated_at__isnull=True,
        closed_at__isnull=True,
        first_contact_due_at__lte=now,
    ).update(escalated_at=now)
