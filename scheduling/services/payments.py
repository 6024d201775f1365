"""Prepayments of visits: starting a payment at the provider, taking the provider's word on
it (webhook, return page, periodic check), and releasing bookings left unpaid.

Invariants:

- One live payment per appointment (a database constraint); a double click on "Pay" gets the
  first one, and the provider gets the same idempotence key for it, so it creates one too.
- A payment's state comes only from the provider's own answer to our authenticated request
  (`fetch_payment`), never from a webhook's body; an answer about another payment, amount or
  currency is refused and changes nothing. A settled payment stays settled, so a replayed
  webhook changes nothing.
- A payment that arrives for a booking released meanwhile is refunded at once.
- Logs name payments by our public id and the provider's id only, never the patient.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import NoAddress, outbox_enqueue
from portal.models import Patient
from scheduling.choices import AppointmentStatus, PaymentStatus
from scheduling.errors import InvalidTransition, PaymentMismatch, PaymentUnavailable
from scheduling.models import Appointment, Payment, PaymentWebhookEvent, Refund
from scheduling.payments import ProviderError, WebhookRefused, get_provider, payments_enabled
from scheduling.payments.base import PaymentRequest, RemotePayment, WebhookEvent
from scheduling.selectors.payments import receipt_for
from scheduling.services.booking import (
    appointment_confirm_paid,
    appointment_release_unpaid,
    check_may_act_for,
)
from scheduling.services.booking.guards import lock_appointment, user_or_none
from scheduling.services.history import message_context
from scheduling.services.refunds import refund_record, refund_record_state

logger = logging.getLogger(__name__)
LIVE = (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)


def awaits_payment(appointment: Appointment, *, now: datetime.datetime) -> bool:
    due = appointment.payment_due_at
    return appointment.status == AppointmentStatus.BOOKED and due is not None and due > now


def payment_start(*, appointment: Appointment, actor: Any, return_url: str) -> Payment:
    """The visit's live payment, created at the provider if there is none yet; the caller
    sends the payer to its `confirmation_url`. A paid visit returns its paid payment.

    Refuses with `NotAllowed` (not the actor's patient), `InvalidTransition` (the visit does
    not wait for a payment) and `PaymentUnavailable` (the provider did not answer; try again).
    """
    now = timezone.now()
    with transaction.atomic():
        appointment = lock_appointment(appointment)
        check_may_act_for(actor, appointment.patient)
        payment = Payment.objects.filter(appointment=appointment, status__in=LIVE).first()
        if payment is None:
            if not awaits_payment(appointment, now=now):
                raise InvalidTransition(
                    _("This visit does not wait for a payment."), code="no_payment_due"
                )
            if not payments_enabled():  # switched off since the booking was made
                raise PaymentUnavailable(code="payments_off")
            payment = _payment_create(appointment, actor=actor, now=now)
    if payment.status == PaymentStatus.SUCCEEDED or payment.confirmation_url:
        return payment
    # Outside the transaction: no row stays locked while the provider answers. A concurrent
    # click comes here with the same payment and key, and the provider answers it alike.
    try:
        remote = get_provider(payment.provider).create_payment(
            PaymentRequest(
                amount=payment.amount,
                currency=payment.currency,
                description=_payment_description(appointment),
                return_url=return_url,
                idempotence_key=str(payment.idempotence_key),
                receipt=receipt_for(appointment),
                metadata={"payment": str(payment.public_id)},
            )
        )
    except ProviderError as exc:
        logger.warning("payment %s not created: %s", payment.public_id, exc.detail)
        raise PaymentUnavailable() from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        # The first answer fixes the provider's id (a concurrent click may have stored it); a
        # link may come only with a later answer.
        payment.provider_payment_id = payment.provider_payment_id or remote.id
        payment.confirmation_url = payment.confirmation_url or remote.confirmation_url
        payment.updated_at = timezone.now()
        payment.save(update_fields=["provider_payment_id", "confirmation_url", "updated_at"])
    return payment


def _payment_create(appointment: Appointment, *, actor: Any, now: datetime.datetime) -> Payment:
    """A new pending payment. The caller holds the visit's row lock and found no live payment
    under it, so no concurrent one can exist (the database constraint stays the backstop)."""
    return Payment.objects.create(
        appointment=appointment,
        provider=settings.PAYMENT_PROVIDER,
        amount=appointment.price,
        created_by=user_or_none(actor),
        created_at=now,
        updated_at=now,
    )


def _payment_description(appointment: Appointment) -> str:
    # No patient's name: the description is shown in the provider's dashboards and logs.
    return f"{appointment.service.name} · {appointment.clinic.name}"[:128]


def payment_record_state(*, payment: Payment, remote: RemotePayment) -> Payment:
    """Take the provider's answer about `payment`. A success confirms the waiting booking and
    tells the patient (or refunds at once if the booking was released meanwhile); a
    cancellation lets the patient try again. Raises `PaymentMismatch` (nothing changes) when
    the answer is about another payment, amount or currency."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if (
            remote.id != payment.provider_payment_id
            or remote.amount != payment.amount
            or remote.currency != payment.currency
        ):
            raise PaymentMismatch(code="payment_mismatch")
        if payment.status != PaymentStatus.PENDING or remote.status == PaymentStatus.PENDING:
            return payment
        now = timezone.now()
        payment.status = remote.status
        payment.updated_at = now
        fields = ["status", "updated_at"]
        if remote.status == PaymentStatus.SUCCEEDED:
            payment.paid_at = now
            fields.append("paid_at")
        payment.save(update_fields=fields)
        if remote.status == PaymentStatus.SUCCEEDED:
            _on_paid(payment, now=now)
    return payment


def _on_paid(payment: Payment, *, now: datetime.datetime) -> None:
    appointment = lock_appointment(payment.appointment)
    if appointment.status == AppointmentStatus.BOOKED and appointment.payment_due_at is not None:
        appointment = appointment_confirm_paid(appointment=appointment)
        _tell_payment_received(appointment, payment)
        return
    # Released (not paid in time) or cancelled while the payer was paying: give it back.
    logger.info("payment %s arrived for a visit no longer waiting; refunding", payment.public_id)
    refund_record(appointment=appointment, actor=None, now=now)


def _tell_payment_received(appointment: Appointment, payment: Payment) -> None:
    context = message_context(appointment, amount=f"{payment.amount:.2f}")
    for channel in ("sms", "email"):
        try:
            outbox_enqueue(
                event="payment.received",
                channel=channel,
                patient=appointment.patient,
                context=context,
                idempotency_key=f"payment.received:{payment.public_id}:{channel}",
                clinic=appointment.clinic_id,
            )
        except NoAddress:
            continue


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask the provider about a pending payment (the payer came back, or the booking is due)
    and record the answer. A provider that does not answer leaves it as it is."""
    if payment.status != PaymentStatus.PENDING or not payment.provider_payment_id:
        return payment
    try:
        remote = get_provider(payment.provider).fetch_payment(payment.provider_payment_id)
        return payment_record_state(payment=payment, remote=remote)
    except ProviderError as exc:
        logger.warning("payment %s not refreshed: %s", payment.public_id, exc.detail)
    except PaymentMismatch:
        logger.warning("payment %s: the provider reports another payment", payment.public_id)
    return payment


def payment_webhook_handle(*, provider_name: str, event: WebhookEvent) -> None:
    """Act on a verified webhook: keep it (once per body), fetch what it names from the
    provider and record that. Raises `WebhookRefused` for a payment or refund we never made
    or one that does not match, and `ProviderError` when the provider cannot be asked (it
    will send again)."""
    record = _webhook_event_record(provider_name, event)
    try:
        _webhook_act(provider_name, event)
    except WebhookRefused as exc:
        _webhook_event_outcome(record, exc.reason)
        raise
    except ProviderError:
        _webhook_event_outcome(record, "provider_unreachable")
        raise
    _webhook_event_outcome(record, "accepted")


def _webhook_act(provider_name: str, event: WebhookEvent) -> None:
    provider = get_provider(provider_name)
    if event.object_kind == "payment":
        payment = Payment.objects.filter(
            provider=provider_name, provider_payment_id=event.object_id
        ).first()
        if payment is None:
            raise WebhookRefused("unknown_payment")
        try:
            payment_record_state(payment=payment, remote=provider.fetch_payment(event.object_id))
        except PaymentMismatch as exc:
            raise WebhookRefused("payment_mismatch") from exc
        return
    refund = Refund.objects.filter(
        payment__provider=provider_name, provider_refund_id=event.object_id
    ).first()
    if refund is None:
        raise WebhookRefused("unknown_refund")
    try:
        refund_record_state(refund=refund, remote=provider.fetch_refund(event.object_id))
    except PaymentMismatch as exc:
        raise WebhookRefused("refund_mismatch") from exc


def _webhook_event_record(provider_name: str, event: WebhookEvent) -> PaymentWebhookEvent:
    now = timezone.now()
    with transaction.atomic():
        record, created = PaymentWebhookEvent.objects.select_for_update().get_or_create(
            provider=provider_name,
            body_sha256=event.digest,
            defaults={
                "event": event.event,
                "object_id": event.object_id,
                "first_received_at": now,
                "last_received_at": now,
            },
        )
        if not created:
            record.deliveries += 1
            record.last_received_at = now
            record.save(update_fields=["deliveries", "last_received_at"])
    return record


def _webhook_event_outcome(record: PaymentWebhookEvent, outcome: str) -> None:
    record.outcome = outcome
    record.save(update_fields=["outcome"])


def prepayments_release_expired(
    *, patients: Iterable[Patient] | None = None, limit: int = 200
) -> int:
    """Release bookings whose prepayment is overdue (of `patients` only, when given: a page
    view checks its own). A payment still pending is asked about first, as the payer may have
    paid in the last second. Returns how many were released."""
    due = Appointment.objects.filter(
        status=AppointmentStatus.BOOKED, payment_due_at__lte=timezone.now()
    )
    if patients is not None:
        due = due.filter(patient__in=patients)
    released = 0
    for appointment in due.order_by("payment_due_at")[:limit]:
        for payment in Payment.objects.filter(
            appointment=appointment, status=PaymentStatus.PENDING
        ):
            payment_refresh(payment=payment)
        if appointment_release_unpaid(appointment=appointment) is not None:
            released += 1
    return released


def payments_refresh_pending(*, older_than: datetime.timedelta, limit: int = 100) -> int:
    """Ask about payments still pending after `older_than` (a webhook that never came), for
    a day: providers cancel payments left unpaid well before that."""
    now = timezone.now()
    stale = Payment.objects.filter(
        status=PaymentStatus.PENDING,
        created_at__lte=now - older_than,
        created_at__gte=now - datetime.timedelta(days=1),
    ).exclude(provider_payment_id="")
    count = 0
    for payment in stale.order_by("updated_at")[:limit]:
        payment_refresh(payment=payment)
        count += 1
    return count


def latest_payment_refresh(*, appointment: Appointment) -> Payment | None:
    """Refresh the visit's newest pending payment (the payer is back from the provider)."""
    payment = (
        Payment.objects.filter(appointment=appointment, status=PaymentStatus.PENDING)
        .order_by("-created_at")
        .first()
    )
    return payment_refresh(payment=payment) if payment is not None else None
