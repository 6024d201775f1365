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
def run_import(job_id: int) -> str:
    """Process an import job (dry run or run) from its cursor to the end."""
    from crm.services.imports.runner import import_job_advance

    job = import_job_advance(job_id=job_id)
    return job.status if job is not None else "missing"


@shared_task
def purge_stale_imports() -> int:
    """Delete the files of imports abandoned before they ran."""
    from crm.services.imports.jobs import import_jobs_purge_stale

    return import_jobs_purge_stale()


@shared_task
def purge_assistant_transcripts() -> int:
    """Delete assistant transcripts past their retention; how many turns went."""
    from crm.services.assistant import conversations_purge

    return conversations_purge()


@shared_task
def refresh_activity() -> dict[str, int]:
    """Rewrite the activity facts and lead outcomes touched since the last run."""
    from crm.services.activity import activity_refresh

    result = activity_refresh()
    return {"patients": result.patients, "leads": result.leads}
