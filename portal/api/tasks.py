"""Periodic upkeep of the API's idempotency records (thin: calls the purge)."""

from celery import shared_task

from portal.api.idempotency import idempotency_purge_expired


@shared_task(name="portal.api.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency_purge_expired()
