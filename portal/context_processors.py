from django.conf import settings

from portal import permissions
from portal.navigation import navigation_for


def navigation(request):
    return {
        "nav": navigation_for(request),
        "network_name": settings.NETWORK_NAME,
        "dev_outbox_enabled": settings.DEV_OUTBOX_ENABLED,
        # The assistant's chat is for visitors and patients; staff answer in the inbox.
        "show_assistant": not permissions.is_staff_member(getattr(request, "user", None)),
    }
