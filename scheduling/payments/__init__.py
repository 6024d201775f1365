"""Payment providers behind one interface (`base.PaymentProvider`), chosen by the
`PAYMENT_PROVIDER` setting: `test` (built in, for development and tests), `yookassa`."""

from __future__ import annotations

from django.conf import settings

from .base import PaymentProvider, ProviderError, WebhookRefused
from .test_gateway import TestGatewayProvider
from .yookassa import YooKassaProvider


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: the configured one); `LookupError` for a name
    no adapter has."""
    name = name or settings.PAYMENT_PROVIDER
    if name == "test":
        return TestGatewayProvider()
    if name == "yookassa":
        return YooKassaProvider.from_settings()
    raise LookupError(name)


def provider_names() -> frozenset[str]:
    return frozenset({"test", "yookassa"})


def payments_enabled() -> bool:
    return settings.PAYMENT_PROVIDER in provider_names()


__all__ = [
    "PaymentProvider",
    "ProviderError",
    "WebhookRefused",
    "get_provider",
    "payments_enabled",
    "provider_names",
]
