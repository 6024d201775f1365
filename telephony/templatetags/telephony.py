"""`{% telephony_caller_panel %}`: the self-updating caller panel, for any staff page (the
calls page; the desk's board shows it as a `portal.panels.DESK` panel). It polls
`telephony:caller_panel` every TELEPHONY_POLL_SECONDS."""

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("telephony/caller_panel_slot.html")
def telephony_caller_panel() -> dict:
    return {"poll_seconds": settings.TELEPHONY_POLL_SECONDS}
