"""How an outbox message reads: its template (or the clinic's own text) rendered in the
recipient's language, with the visit time written out for the reader's zone."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from notifications.models import OutboxMessage
from notifications.templating import render_custom
from portal.formatting import is_readers_zone, zone_note
from portal.models import Patient


def render_message(message: OutboxMessage) -> tuple[str, str]:
    """Render (subject, body) from `notifications/messages/<event>.<channel>.txt`.

    A template's first line `Subject: ...` becomes the subject of an email. An event without a
    template brings its text (and subject) in the context, rendered by the caller: sign-in
    e-mails come rendered from allauth's templates.
    """
    names = [
        f"notifications/messages/{message.event}.{message.channel}.txt",
        f"notifications/messages/{message.event}.txt",
    ]
    with translation.override(message.language):
        context = {
            "network_name": settings.NETWORK_NAME,
            "site_url": settings.SITE_URL,
            **_with_display_times(message.context, reader_zone=_reader_zone(message)),
        }
        # A clinic's (or the network's) own text, edited in the message-text pages, comes first.
        custom = render_custom(
            clinic_id=message.clinic_id,
            event=message.event,
            channel=message.channel,
            language=message.language,
            context=context,
        )
        if custom is not None:
            return custom
        try:
            text = render_to_string(names, context).strip()
        except TemplateDoesNotExist:
            return str(message.context.get("subject", "")), str(
                message.context.get("text", message.event)
            )
    subject = ""
    if text.startswith("Subject:"):
        first, _sep, rest = text.partition("\n")
        subject, text = first.removeprefix("Subject:").strip(), rest.strip()
    return subject, text


def _reader_zone(message: OutboxMessage) -> zoneinfo.ZoneInfo:
    """The zone the recipient lives in, as the pages assume it: their home clinic's, else the
    network's DISPLAY_TIME_ZONE."""
    zone = ""
    if message.patient_id is not None:
        zone = (
            Patient.objects.filter(pk=message.patient_id)
            .values_list("home_clinic__timezone", flat=True)
            .first()
            or ""
        )
    return zoneinfo.ZoneInfo(zone or settings.DISPLAY_TIME_ZONE)


def _with_display_times(
    context: dict[str, Any], *, reader_zone: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    """`context` with `start_display`: its `start` (ISO, the clinic's local time with its
    offset) written out in the active language, saying the clinic's zone when it is not the
    reader's ("7 Dec 2026, 14:00 (Irkutsk time, UTC+8)"), unless the context brings its own."""
    start = context.get("start")
    if "start_display" in context or not isinstance(start, str):
        return context
    try:
        local = datetime.datetime.fromisoformat(start)
    except ValueError:
        return context
    if local.tzinfo is None:
        return context
    label = formats.date_format(local, "DATETIME_FORMAT")
    with timezone.override(reader_zone):
        readers_own = is_readers_zone(local.tzinfo, local)
    if not readers_own:
        label = zone_note(label, local, city=str(context.get("clinic_city", "")))
    return {**context, "start_display": label}
