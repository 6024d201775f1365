"""Celery tasks of the booking engine: thin wrappers around services."""

import datetime
import logging
from typing import Any

from celery import shared_task

from scheduling.payments import ProviderError
from scheduling.payments.test_gateway import deliver_webhook
from scheduling.services.booking_request_sla import (
    booking_requests_escalate,
    booking_requests_expire,
)
from scheduling.services.connectors import connectors_sync
from scheduling.services.holds import holds_purge_expired
from scheduling.services.payments import payments_refresh_pending, prepayments_release_expired
from scheduling.services.refunds import refund_send, refunds_retry_pending
from scheduling.services.reminders import reminders_enqueue_due
from scheduling.services.waitlist_offers import waitlist_offers_advance, waitlist_slot_freed
from scheduling.services.waitlist_schedule import waitlist_schedule_opened

logger = logging.getLogger(__name__)


@shared_task
def purge_expired_holds() -> int:
    """Expired holds already stop counting in free slots; this only keeps the table small."""
    return holds_purge_expired()


@shared_task
def release_unpaid_bookings() -> int:
    """Release bookings whose prepayment is overdue; ask about payments whose webhook never
    came; send refunds the provider has not taken yet."""
    released = prepayments_release_expired()
    payments_refresh_pending(older_than=datetime.timedelta(minutes=5))
    refunds_retry_pending()
    return released


@shared_task
def send_refund(refund_id: int) -> bool:
    """Ask the provider for a recorded refund; if it cannot be reached, the periodic task
    tries again (a failure here must not fail the cancellation that has committed)."""
    try:
        refund_send(refund_id=refund_id)
    except ProviderError as exc:
        logger.warning("refund %s not sent: %s", refund_id, exc.detail)
        return False
    return True


@shared_task
def deliver_test_gateway_webhook(gateway_payment_id: int) -> bool:
    """The test provider notifies our webhook endpoint."""
    return deliver_webhook(gateway_payment_id=gateway_payment_id)


@shared_task(ignore_result=True)
def enqueue_due_reminders() -> int:
    """Record the visit reminders whose time has come (each once: see services.reminders)."""
    return reminders_enqueue_due()


@shared_task(ignore_result=True)
def escalate_booking_requests() -> int:
    """Flag booking requests past their answer time; close proposals nobody answered."""
    booking_requests_expire()
    return booking_requests_escalate()


@shared_task(ignore_result=True)
def offer_freed_slot(appointment_id: int) -> bool:
    """Offer the time of a cancelled or rolled-back visit to the waitlist (once)."""
    return waitlist_slot_freed(appointment_id=appointment_id) is not None


@shared_task(ignore_result=True)
def offer_opened_slots(watch: dict[str, Any]) -> int:
    """Offer the times a committed schedule change opened to the waitlist; how many."""
    return len(waitlist_schedule_opened(watch))


@shared_task(ignore_result=True)
def advance_waitlist_offers() -> int:
    """Expired batches of waitlist offers make way for the next (and deferred ones go out)."""
    return waitlist_offers_advance()


@shared_task
def sync_connectors() -> int:
    """External schedules: health, this week's free times cached, old call logs dropped."""
    return connectors_sync()
