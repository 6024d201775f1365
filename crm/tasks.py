"""Celery tasks of the CRM: thin wrappers around services."""

from celery import shared_task

from crm.services.leads import leads_escalate_overdue
from crm.services.loop import leads_close_loop


@shared_task
def follow_leads() -> dict[str, int]:
    """Escalate leads nobody contacted in time; mark leads whose person booked."""
    return {"escalated": leads_escalate_overdue(), "booked": leads_close_loop()}


@shared_task
def send_campaign(campaign_id: int) -> int:
    """Queue a started campaign's messages; how many were queued."""
    from crm.services.campaigns import campaign_send

    campaign = campaign_send(campaign_id=campaign_id)
    return campaign.recipients if campaign is not None else 0


@shared_task
def purge_assistant_transcripts() -> int:
    """Delete assistant transcripts past their retention; how many turns went."""
    from crm.services.assistant import conversations_purge

    return conversations_purge()
