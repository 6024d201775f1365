from celery import shared_task
from django.conf import settings

from notifications import services


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    sent = 0
    for message_id in services.outbox_claim_due():
        services.outbox_send(message_id=message_id)
        sent += 1
    return sent


@shared_task(ignore_result=True)
def purge_old_messages() -> int:
    return services.outbox_purge_older_than(days=settings.OUTBOX_RETENTION_DAYS)
