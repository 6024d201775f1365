from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import checks, language
        from portal.auth import receivers

        language.connect()
        receivers.connect()
        checks.refuse_unshared_cache_without_debug()
