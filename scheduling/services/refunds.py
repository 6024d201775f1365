"""Refunds of prepaid visits: recorded in the cancellation's transaction, sent to the
provider after it commits, and settled from what the provider reports."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from scheduling.choices import PaymentStatus, RefundStatus
from scheduling.errors import PaymentMismatch
from scheduling.models import Appointment, Payment, Refund
from scheduling.payments import ProviderError, get_provider
from scheduling.payments.base import RemoteRefund
from scheduling.selectors.payments import receipt_for

logger = logging.getLogger(__name__)


def refund_record(*, appointment: Appointment, actor: Any, now: datetime.datetime) -> Refund | None:
    """Record the full refund of the visit's payment, if it was paid (once: a second call
    returns the first refund), and ask the provider once the transaction commits."""
    payment = Payment.objects.filter(
        appointment=appointment, status=PaymentStatus.SUCCEEDED
    ).first()
    if payment is None:
        return None
    refund, created = Refund.objects.get_or_create(
        payment=payment,
        defaults={
            "amount": payment.amount,
            "currency": payment.currency,
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
            "created_at": now,
            "updated_at": now,
        },
    )
    if created:
        # tasks.py imports this module; the task is looked up when first needed.
        from scheduling.tasks import send_refund

        transaction.on_commit(lambda: send_refund.delay(refund.pk))
    return refund


def refund_send(*, refund_id: int) -> Refund:
    """Ask the provider for a recorded refund (the idempotence key makes a retry safe) and
    record its answer. A refund the provider already has is fetched instead. Raises
    `ProviderError` when the provider cannot be reached; the periodic task tries again."""
    refund = Refund.objects.select_related(
        "payment__appointment__clinic__legal_entity",
        "payment__appointment__patient",
        "payment__appointment__service",
        "payment__appointment__booked_by",
    ).get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    provider = get_provider(payment.provider)
    if refund.provider_refund_id:
        remote = provider.fetch_refund(refund.provider_refund_id)
    else:
        remote = provider.refund(
            payment_id=payment.provider_payment_id,
            amount=refund.amount,
            currency=refund.currency,
            idempotence_key=str(refund.idempotence_key),
            receipt=receipt_for(payment.appointment),
        )
    return refund_record_state(refund=refund, remote=remote)


def refund_record_state(*, refund: Refund, remote: RemoteRefund) -> Refund:
    """Take the provider's word on a refund, after checking it is this refund. Settled
    refunds stay settled (a replayed webhook changes nothing)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if (
            remote.payment_id != refund.payment.provider_payment_id
            or remote.amount != refund.amount
            or remote.currency != refund.currency
            or (refund.provider_refund_id and remote.id != refund.provider_refund_id)
        ):
            raise PaymentMismatch(code="refund_mismatch")
        changed = []
        if not refund.provider_refund_id:
            refund.provider_refund_id = remote.id
            changed.append("provider_refund_id")
        if refund.status == RefundStatus.PENDING and remote.status != RefundStatus.PENDING:
            refund.status = remote.status
            changed.append("status")
            if remote.status == RefundStatus.SUCCEEDED:
                refund.refunded_at = timezone.now()
                changed.append("refunded_at")
        if changed:
            refund.updated_at = timezone.now()
            refund.save(update_fields=[*changed, "updated_at"])
    return refund


def refunds_retry_pending(*, limit: int = 50) -> int:
    """Send the pending refunds again (the provider was down, or its answer is awaited)."""
    done = 0
    for refund_id in Refund.objects.filter(status=RefundStatus.PENDING).values_list(
        "pk", flat=True
    )[:limit]:
        try:
            refund_send(refund_id=refund_id)
        except (ProviderError, PaymentMismatch) as exc:
            logger.warning("refund %s not sent: %s", refund_id, exc)
            continue
        done += 1
    return done
