from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from crm import receivers
        from crm.assistant.channels import answer_inbound
        from notifications.inbound import register_text_handler

        receivers.connect()
        # Free text from Telegram and SMS goes to the assistant (notifications may not import
        # crm, so the CRM registers itself on its hook).
        register_text_handler(answer_inbound)
