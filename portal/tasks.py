"""Celery tasks of the portal: thin wrappers that call services."""

from celery import shared_task

from portal.api.idempotency import idempotency_purge_expired
from portal.services.audit import audit_seal_pending

# One run seals at most this many blocks, so a backlog drains without one endless task.
MAX_BLOCKS_PER_RUN = 20


@shared_task(ignore_result=True)
def seal_audit_events() -> int:
    """Seal pending audit events into blocks (beat: every AUDIT_SEAL_INTERVAL); returns blocks
    sealed. With nothing to seal it costs two indexed single-row reads."""
    sealed = 0
    while sealed < MAX_BLOCKS_PER_RUN and audit_seal_pending() is not None:
        sealed += 1
    return sealed


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Delete Idempotency-Key records past their 24 hours (beat: hourly); returns how many."""
    return idempotency_purge_expired()
