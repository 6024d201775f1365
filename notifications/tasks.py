from celery import shared_task
from django.conf import settings

from notifications import services


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    return services.outbox_dispatch_due()


@shared_task(ignore_result=True)
def purge_old_messages() -> int:
    return services.outbox_purge_older_than(days=settings.OUTBOX_RETENTION_DAYS)
