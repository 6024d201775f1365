from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from notifications.models import OutboxMessage
from portal.permissions import require_capability


@login_required
def outbox(request):
    """The development outbox: every message the development sender 'delivered'."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    require_capability(request.user, "outbox.view")
    messages = OutboxMessage.objects.order_by("-created_at")[:200]
    return render(request, "notifications/outbox.html", {"messages_list": messages})
