from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from notifications import checks
        from notifications.services import outbox_enqueue
        from portal.messaging import register_message_handler

        # The kernel sends sign-in and consent codes through the outbox without importing it.
        register_message_handler(outbox_enqueue)
        checks.refuse_development_sender_without_debug()
