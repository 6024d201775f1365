from django.conf import settings

from portal.navigation import navigation_for


def navigation(request):
    return {
        "nav": navigation_for(request),
        "network_name": settings.NETWORK_NAME,
        "dev_outbox_enabled": settings.DEV_OUTBOX_ENABLED,
    }
