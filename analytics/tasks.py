from celery import shared_task

from analytics.services.rollups import rollups_refresh


@shared_task(ignore_result=True)
def refresh_rollups() -> None:
    """Beat: roll up the days whose sources changed since the last run."""
    rollups_refresh()
