from celery import shared_task
from django.conf import settings

from notifications import dispatch, retention
from notifications.choices import Lane


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    """The critical lane's dispatcher (queue `critical`): what a patient is waiting for."""
    return dispatch.outbox_dispatch_due(lane=Lane.CRITICAL)


@shared_task(ignore_result=True)
def dispatch_bulk_messages() -> int:
    """The bulk lane's dispatcher (queue `bulk`): reminders and campaigns."""
    return dispatch.outbox_dispatch_due(lane=Lane.BULK)


@shared_task(ignore_result=True)
def purge_old_messages() -> int:
    return retention.outbox_purge_counted(days=settings.OUTBOX_RETENTION_DAYS)
