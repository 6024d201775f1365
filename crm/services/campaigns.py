"""Creating and sending retention campaigns.

Invariants: a campaign is sent once (draft → sending → sent, the row locked); it reaches only
patients of its segment with an active consent to advertising messages, and only on a channel
their settings allow (the outbox refuses the rest: STOP, switched off, a landline for SMS);
messages wait for the clinic's contact hours and go in the outbox's bulk lane, so they never
delay booking messages. Nothing is sent for a send that rolls back.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import CampaignChannel, CampaignStatus
from crm.errors import LeadInvalid
from crm.models import Campaign, CampaignRecipient, Segment
from crm.selectors.segments import age_fits, segment_patients
from notifications.services import NoAddress, next_contact_time, outbox_message, outbox_record
from portal.choices import AuditAction
from portal.models import User
from portal.services.audit import audit_record
from portal.types import Actor
from scheduling.selectors.policy import policy_for

MAX_TEXT = 1000
EVENT = "campaign.message"
BATCH = 500


@transaction.atomic
def campaign_create(
    *,
    name: str,
    segment: Segment,
    channel: str,
    text: str,
    actor: Actor,
    subject: str = "",
    booking_window_days: int = 14,
) -> Campaign:
    """A draft campaign to `segment` (its clinic, if any, is the campaign's)."""
    name, text, subject = (name or "").strip(), (text or "").strip(), (subject or "").strip()
    if not name or len(name) > 100:
        raise LeadInvalid(_("Name the campaign (up to 100 characters)."), field="name")
    if channel not in CampaignChannel.values:
        raise LeadInvalid(field="channel")
    if not text or len(text) > MAX_TEXT:
        raise LeadInvalid(
            _("Write the message, up to %(max)d characters.") % {"max": MAX_TEXT}, field="text"
        )
    if len(subject) > 150:
        raise LeadInvalid(_("The subject is too long."), field="subject")
    if not 1 <= booking_window_days <= 90:
        raise LeadInvalid(_("Count bookings for 1 to 90 days."), field="booking_window_days")
    campaign = Campaign.objects.create(
        name=name,
        segment=segment,
        clinic=segment.clinic,
        channel=channel,
        subject=subject,
        text=text,
        booking_window_days=booking_window_days,
        created_by=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="crm.campaign",
        object_id=campaign.pk,
        changed_fields=["name", "segment", "channel", "text"],
        clinic=campaign.clinic_id,
    )
    return campaign


@transaction.atomic
def campaign_start(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Mark a draft as sending and queue its sending for after the commit (a Celery task on
    the bulk queue); a campaign already sending or sent is refused."""
    from crm.tasks import send_campaign

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise LeadInvalid(_("This campaign has been sent already."))
    campaign.status = CampaignStatus.SENDING
    campaign.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="crm.campaign",
        object_id=campaign.pk,
        changed_fields=["status"],
        clinic=campaign.clinic_id,
    )
    transaction.on_commit(lambda: send_campaign.delay(campaign.pk))
    return campaign


def _footer(channel: str) -> str:
    # Every marketing message says how to stop them (SMS replies are read by the inbound side).
    if channel == CampaignChannel.SMS:
        return str(_("Reply STOP to unsubscribe."))
    return str(_("You can turn these messages off in your account: %(url)s")) % {
        "url": f"{settings.SITE_URL}/me/notifications/"
    }


@transaction.atomic
def campaign_send(*, campaign_id: int, now: datetime.datetime | None = None) -> Campaign | None:
    """Queue the campaign's messages (the task `crm.tasks.send_campaign`); None when it is not
    waiting to be sent (sent meanwhile, or never started)."""
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("segment", "clinic")
        .filter(pk=campaign_id, status=CampaignStatus.SENDING)
        .first()
    )
    if campaign is None:
        return None
    now = now or timezone.now()
    due_at = now
    if campaign.clinic is not None:
        policy = policy_for(campaign.clinic)
        due_at = next_contact_time(
            now,
            zone=campaign.clinic.tz,
            opens=policy.contact_hours_start,
            closes=policy.contact_hours_end,
        )
    else:
        due_at = next_contact_time(
            now,
            zone=zoneinfo.ZoneInfo(settings.TIME_ZONE),
            opens=datetime.time(8),
            closes=datetime.time(20),
        )
    rules = {**campaign.segment.rules, "marketing_consent": True}
    patients = segment_patients(rules=rules, clinic=campaign.clinic).order_by("pk")
    context = {
        "subject": campaign.subject or campaign.name,
        "text": f"{campaign.text}\n\n{_footer(campaign.channel)}",
    }
    queued = skipped = 0
    batch: list[tuple[int, object]] = []
    today = timezone.localdate()
    for patient in patients.iterator(chunk_size=BATCH):
        if not age_fits(patient.birth_date, rules, today=today):
            continue
        try:
            message = outbox_message(
                event=EVENT,
                channel=campaign.channel,
                patient=patient,
                context=context,
                due_at=due_at,
                clinic=campaign.clinic_id,
            )
        except NoAddress:
            # No address on this channel, or the patient stopped or switched these off.
            skipped += 1
            continue
        batch.append((patient.pk, message))
        if len(batch) >= BATCH:
            queued += _record(campaign, batch)
            batch = []
    queued += _record(campaign, batch)
    campaign.status = CampaignStatus.SENT
    campaign.sent_at = now
    campaign.recipients, campaign.skipped = queued, skipped
    campaign.save(update_fields=["status", "sent_at", "recipients", "skipped"])
    return campaign


def _record(campaign: Campaign, batch: list[tuple[int, object]]) -> int:
    if not batch:
        return 0
    messages = outbox_record(messages=[message for _patient, message in batch])  # type: ignore[misc]
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=campaign, patient_id=patient_id, message=message)
        for (patient_id, _message), message in zip(batch, messages, strict=True)
    )
    return len(messages)
