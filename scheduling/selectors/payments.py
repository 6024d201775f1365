"""Read paths of prepayments: whether a booking must be prepaid, what the patient sees of a
visit's payment, and the receipt data sent to the provider and printed as PDF."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.choices import VatMode
from portal.models import Clinic
from scheduling.choices import AppointmentChannel, AppointmentStatus, PaymentStatus, RefundStatus
from scheduling.models import Appointment, Payment, Service
from scheduling.payments import payments_enabled
from scheduling.payments.base import Receipt, ReceiptItem
from scheduling.selectors.policy import policy_for

# Rates of VAT included in a price, per legal entity's VAT mode.
VAT_RATES = {
    VatMode.NONE: None,
    VatMode.VAT0: Decimal(0),
    VatMode.VAT5: Decimal(5),
    VatMode.VAT7: Decimal(7),
    VatMode.VAT10: Decimal(10),
    VatMode.VAT22: Decimal(22),
}


def prepayment_due_at(
    *,
    clinic: Clinic,
    service: Service,
    channel: str,
    now: datetime.datetime,
    price: Decimal | None = None,
) -> datetime.datetime | None:
    """When an online booking of `service` in `clinic` must be paid by, or None when the
    clinic does not take it prepaid (only the patient's own online bookings are: staff and
    external systems take payment their own way) or there is nothing to pay (`price`, the
    booking's price after discounts, else the service's network price)."""
    amount = service.price if price is None else price
    if channel != AppointmentChannel.ONLINE or not payments_enabled() or amount <= 0:
        return None
    policy = policy_for(clinic)
    if policy.pk is None or not policy.prepaid_services.filter(pk=service.pk).exists():
        return None
    return now + datetime.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)


def requires_prepayment(*, clinic: Clinic, service: Service, price: Decimal | None = None) -> bool:
    """For the confirmation page: will booking this online (at `price`, the quoted price
    after discounts) wait for a prepayment?"""
    now = timezone.now()
    return (
        prepayment_due_at(
            clinic=clinic,
            service=service,
            channel=AppointmentChannel.ONLINE,
            now=now,
            price=price,
        )
        is not None
    )


AWAITING = "awaiting"
PAID = "paid"
REFUND_PENDING = "refund_pending"
REFUNDED = "refunded"
REFUND_REFUSED = "refund_refused"
RELEASED = "released"


@dataclass
class PaymentState:
    """A visit's payment as the patient sees it; `kind` is "" for a visit without one."""

    kind: str = ""
    seconds_left: int = 0
    payment: Payment | None = None

    @property
    def label(self) -> str:
        return str(LABELS.get(self.kind, ""))

    @property
    def badge(self) -> str:
        return BADGES.get(self.kind, "badge-muted")

    @property
    def minutes_left(self) -> int:
        return (self.seconds_left + 59) // 60


LABELS = {
    AWAITING: _("Awaiting payment"),
    PAID: _("Paid"),
    REFUND_PENDING: RefundStatus.PENDING.label,
    REFUNDED: RefundStatus.SUCCEEDED.label,
    REFUND_REFUSED: RefundStatus.CANCELED.label,
    RELEASED: _("Not paid in time"),
}
BADGES = {AWAITING: "badge-warn", PAID: "badge-ok", RELEASED: "badge-danger"}


def payment_states(
    appointments: Iterable[Appointment], *, now: datetime.datetime | None = None
) -> dict[int, PaymentState]:
    """The payment state of each appointment, by its pk, in one query."""
    now = now or timezone.now()
    appointments = list(appointments)
    paid: dict[int, Payment] = {
        payment.appointment_id: payment
        for payment in Payment.objects.filter(
            appointment__in=[a.pk for a in appointments], status=PaymentStatus.SUCCEEDED
        ).select_related("refund")
    }
    return {a.pk: _state(a, paid.get(a.pk), now=now) for a in appointments}


def payment_state(
    appointment: Appointment, *, now: datetime.datetime | None = None
) -> PaymentState:
    return payment_states([appointment], now=now)[appointment.pk]


def _state(
    appointment: Appointment, payment: Payment | None, *, now: datetime.datetime
) -> PaymentState:
    if payment is not None:
        refund = getattr(payment, "refund", None)
        if refund is None:
            return PaymentState(PAID, payment=payment)
        kind = {
            RefundStatus.PENDING: REFUND_PENDING,
            RefundStatus.SUCCEEDED: REFUNDED,
            RefundStatus.CANCELED: REFUND_REFUSED,
        }[refund.status]
        return PaymentState(kind, payment=payment)
    due = appointment.payment_due_at
    if due is None:
        return PaymentState()
    if appointment.status == AppointmentStatus.BOOKED:
        return PaymentState(AWAITING, seconds_left=max(0, int((due - now).total_seconds())))
    # Released by the payment timeout: cancelled once the time to pay ran out. A visit the
    # patient or staff cancelled while it could still be paid was not "unpaid in time".
    cancelled_at = appointment.cancelled_at
    if appointment.status == AppointmentStatus.CANCELLED and cancelled_at and cancelled_at >= due:
        return PaymentState(RELEASED)
    return PaymentState()


def paid_payment(appointment: Appointment) -> Payment | None:
    return (
        Payment.objects.filter(appointment=appointment, status=PaymentStatus.SUCCEEDED)
        .select_related("refund")
        .first()
    )


def paid_appointment_ids(appointment_ids: Iterable[int]) -> set[int]:
    return set(
        Payment.objects.filter(
            appointment_id__in=list(appointment_ids), status=PaymentStatus.SUCCEEDED
        ).values_list("appointment_id", flat=True)
    )


def included_vat(amount: Decimal, vat_mode: str) -> Decimal | None:
    """The VAT included in `amount` (None: no VAT)."""
    rate = VAT_RATES.get(VatMode(vat_mode)) if vat_mode in VatMode.values else None
    if rate is None:
        return None
    return (amount * rate / (100 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def receipt_for(appointment: Appointment) -> Receipt:
    """The 54-ФЗ receipt of the visit's prepayment: the service paid in full in advance, the
    legal entity's VAT mode, the payer's email and phone (the patient who booked, when the
    visit is a dependant's)."""
    payer = appointment.patient
    booked_by = appointment.booked_by
    if booked_by is not None and getattr(booked_by, "patient", None) is not None:
        payer = booked_by.patient
    contact = payer if (payer.email or payer.phone) else appointment.patient
    return Receipt(
        items=[
            ReceiptItem(
                description=appointment.service.name,
                quantity=1,
                amount=appointment.price,
                vat_mode=appointment.clinic.legal_entity.vat_mode,
            )
        ],
        email=contact.email,
        phone=contact.phone.lstrip("+"),
    )
