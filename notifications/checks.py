"""Start-up refusal and deployment check for the development sender, which delivers nothing:
a deployment that forgot to name its providers must not lose every message silently."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from notifications.senders import development_sender_channels, sender_paths


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


# The settings each real sender cannot work without.
REQUIRED_SENDER_SETTINGS = {
    "notifications.senders.smsru.SmsRuSender": ("SMSRU_API_ID",),
    "notifications.senders.twilio.TwilioSender": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
    "notifications.senders.telegram.TelegramSender": ("TELEGRAM_BOT_TOKEN",),
}


@register("notifications")
def check_sender_settings(app_configs, **kwargs):
    """A channel named for SMS.ru, Twilio or Telegram without its key would fail every
    message."""
    errors = []
    for channel, path in sorted(sender_paths().items()):
        missing = [
            name for name in REQUIRED_SENDER_SETTINGS.get(path, ()) if not getattr(settings, name)
        ]
        if missing:
            errors.append(
                Error(
                    f"The {channel} channel's sender needs {', '.join(missing)}.",
                    hint="Set it in the environment (or a *_FILE); README, Messaging providers.",
                    id="notifications.E002",
                )
            )
    if settings.TWILIO_STATUS_CALLBACK_URL and not settings.TWILIO_AUTH_TOKEN:
        errors.append(
            Error(
                "TWILIO_STATUS_CALLBACK_URL is set without TWILIO_AUTH_TOKEN to check signatures.",
                id="notifications.E003",
            )
        )
    if settings.TWILIO_INBOUND_URL and not settings.TWILIO_AUTH_TOKEN:
        errors.append(
            Error(
                "TWILIO_INBOUND_URL is set without TWILIO_AUTH_TOKEN to check signatures.",
                id="notifications.E004",
            )
        )
    return errors
