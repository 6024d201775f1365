"""Celery tasks of the booking engine: thin wrappers around services."""

from celery import shared_task

from scheduling.services.holds import holds_purge_expired


@shared_task
def purge_expired_holds() -> int:
    """Expired holds already stop counting in free slots; this only keeps the table small."""
    return holds_purge_expired()
