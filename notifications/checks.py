"""Start-up refusal and deployment check for the development sender, which delivers nothing:
a deployment that forgot to name its providers must not lose every message silently."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register
from django.core.exceptions import ImproperlyConfigured

from notifications.senders import development_sender_channels


def refuse_development_sender_without_debug() -> None:
    """Raise ImproperlyConfigured when, without DEBUG, a channel would use the development
    sender and NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER does not allow it explicitly."""
    channels = development_sender_channels()
    if not channels or settings.DEBUG or settings.NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER:
        return
    raise ImproperlyConfigured(
        f"NOTIFICATION_SENDERS leaves {', '.join(channels)} to the development sender, which "
        "delivers nothing. Name a sender for every channel in NOTIFICATION_SENDERS, or set "
        "NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER=1 to run without delivering."
    )


@register("notifications", deploy=True)
def check_development_sender(app_configs, **kwargs):
    channels = development_sender_channels()
    if not channels:
        return []
    return [
        Warning(
            f"The development sender serves {', '.join(channels)}: those messages are never "
            "delivered.",
            hint="Name a sender for every channel in NOTIFICATION_SENDERS "
            "(NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER allows running without).",
            id="notifications.W001",
        )
    ]
