"""Prepayments of visits and their refunds, and the built-in test provider's own records."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scheduling.choices import PaymentStatus, RefundStatus

from .appointments import Appointment

CURRENCY = "RUB"


class Payment(models.Model):
    """One attempt to prepay one appointment at a payment provider.

    Written only by `scheduling.services.payments`. At most one live (pending or paid) payment
    exists per appointment, which the database keeps: a double click on "Pay" finds the first.
    The `idempotence_key` goes to the provider with the creation request, so a retried request
    never creates a second payment there either.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey(
        Appointment, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="payments"
    )
    provider = models.CharField(_("provider"), max_length=20)
    provider_payment_id = models.CharField(_("provider's payment id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    idempotence_key = models.UUIDField(
        _("idempotence key for the provider"), default=uuid.uuid4, unique=True, editable=False
    )
    confirmation_url = models.URLField(_("payment page address"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    paid_at = models.DateTimeField(_("time of payment"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]),
                name="payment_one_live_per_appointment",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="payment_unique_provider_id",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.provider_payment_id or '-'} {self.amount} ({self.status})"


class Refund(models.Model):
    """The full refund of a paid payment, made when its visit is cancelled or released.

    Recorded in the cancellation's transaction; the provider is asked after the commit (a
    Celery task, retried), with `idempotence_key` so a retry never refunds twice.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    payment = models.OneToOneField(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refund"
    )
    provider_refund_id = models.CharField(_("provider's refund id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    idempotence_key = models.UUIDField(
        _("idempotence key for the provider"), default=uuid.uuid4, unique=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    refunded_at = models.DateTimeField(_("time of refund"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self):
        return f"refund {self.provider_refund_id or '-'} {self.amount} ({self.status})"


class TestGatewayPayment(models.Model):
    """What the built-in test provider keeps "on its side" about one payment, as a real
    provider keeps it on its servers: our `Payment` learns its state only from the signed
    webhook or by fetching it, exactly as with a real provider."""

    __test__ = False  # not a pytest test class, despite its name

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    idempotence_key = models.CharField(
        _("idempotence key for the provider"), max_length=64, unique=True
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    description = models.CharField(_("payment description"), max_length=128)
    return_url = models.URLField(_("return address"), max_length=1000)
    # Where its webhook goes: our endpoint on the host the payer came from.
    notify_url = models.URLField(_("webhook address"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    refund_id = models.UUIDField(_("refund number"), null=True, blank=True)
    refund_key = models.CharField(_("refund idempotence key"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("test provider payment")
        verbose_name_plural = _("test provider payments")

    def __str__(self):
        return f"test payment {self.public_id} ({self.status})"


class PaymentWebhookEvent(models.Model):
    """A provider's notification that passed its signature or sender check, kept once per
    distinct body (a replay counts up `deliveries`), with what we made of it. The body itself
    is not kept, only its SHA-256: it may carry card details."""

    provider = models.CharField(_("provider"), max_length=20)
    event = models.CharField(_("event"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64)
    body_sha256 = models.CharField(_("body digest (SHA-256)"), max_length=64)
    deliveries = models.PositiveIntegerField(_("times delivered"), default=1)
    outcome = models.CharField(
        _("result"), max_length=40, blank=True
    )  # "accepted" or a refusal reason
    first_received_at = models.DateTimeField(_("first received"))
    last_received_at = models.DateTimeField(_("last received"))

    class Meta:
        verbose_name = _("payment webhook event")
        verbose_name_plural = _("payment webhook events")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "body_sha256"], name="payment_webhook_event_once"
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.event} {self.object_id} ×{self.deliveries}"
