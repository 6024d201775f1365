from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from notifications.models import OutboxMessage
from portal.messaging import messages_of_this_browser
from portal.permissions import require_capability


@login_required
def outbox(request):
    """The development outbox: every message the development sender 'delivered'."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    require_capability(request.user, "outbox.view")
    messages = OutboxMessage.objects.order_by("-created_at")[:200]
    return render(
        request, "notifications/outbox.html", {"messages_list": messages, "whole_outbox": True}
    )


def browser_outbox(request):
    """The development outbox as one browser sees it: only the messages its own session
    caused (a confirmation link, a sign-in code), for a visitor finishing sign-up on a
    development server. Open to anyone while DEV_OUTBOX_ENABLED; 404 otherwise."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    messages = OutboxMessage.objects.filter(
        public_id__in=messages_of_this_browser(request)
    ).order_by("-created_at")
    return render(
        request, "notifications/outbox.html", {"messages_list": messages, "whole_outbox": False}
    )
