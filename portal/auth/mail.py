"""allauth's e-mails (address confirmation, password reset, sign-in codes...) go out through
the outbox like every other message, handed over through `portal.messaging`.

allauth renders the text from its templates in the reader's language, greeting with the
network's name (NETWORK_NAME), never the host name; the outbox keeps the rendered subject and
text in the message's encrypted context until a sender delivers it (the development sender
leaves it on /notifications/outbox/). Links and codes are therefore never stored in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.core import context as allauth_context
from django.conf import settings
from django.db import transaction
from django.utils import translation

from portal.messaging import hand_over_message, remember_for_this_browser
from portal.services import accounts

EVENT_PREFIX = "auth.mail."


@dataclass(frozen=True)
class NetworkSite:
    """What allauth's templates read as `current_site`: the network, not the host."""

    name: str
    domain: str


def mail_event(template_prefix: str) -> str:
    """'account/email/password_reset_key' → 'auth.mail.password_reset_key'."""
    return EVENT_PREFIX + template_prefix.rsplit("/", 1)[-1]


def send_auth_mail(*, adapter, template_prefix: str, email: str, **context: Any) -> None:
    """Render allauth's mail `template_prefix` to `email` and record it in the outbox."""
    request = allauth_context.request
    network = NetworkSite(name=settings.NETWORK_NAME, domain=settings.NETWORK_NAME)
    rendered = adapter.render_mail(
        template_prefix,
        email,
        {
            "request": request,
            "email": email,
            "current_site": network,
            "network_name": settings.NETWORK_NAME,
            **context,
        },
    )
    user = context.get("user")
    patient = accounts.own_patient(user) if user is not None else None
    with transaction.atomic():
        message = hand_over_message(
            event=mail_event(template_prefix),
            channel="email",
            to=email,
            patient=patient,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            context={"subject": rendered.subject, "text": rendered.body},
        )
    remember_for_this_browser(request, message)
