"""Celery tasks of the CRM: thin wrappers around services."""

from celery import shared_task

from crm.services.leads import leads_escalate_overdue
from crm.services.loop import leads_close_loop


@shared_task
def follow_leads() -> dict[str, int]:
    """Escalate leads nobody contacted in time; mark leads whose person booked."""
    return {"escalated": leads_escalate_overdue(), "booked": leads_close_loop()}
