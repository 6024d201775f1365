"""Read paths of the message log and the message texts."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from notifications.models import MessageTemplate, OutboxMessage
from notifications.retention import LOG_STATE
from notifications.templating import EVENTS, Event
from portal.models import Clinic
from portal.permissions import clinic_ids_with
from portal.types import RequestUser

LOG_FIELDS = (
    "public_id",
    "event",
    "channel",
    "lane",
    "clinic__name",
    "to_address",
    "status",
    "delivery_status",
    "attempts",
    "max_attempts",
    "last_error",
    "provider",
    "due_at",
    "sent_at",
    "created_at",
)


def message_log(
    *,
    user: RequestUser,
    clinic: Clinic | None = None,
    state: str = "",
    channel: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[OutboxMessage]:
    """Messages of the clinics where `user` holds `messages.view`, newest first, each with its
    `state` (`LogState`). Network-wide staff also see messages tied to no clinic (sign-in
    codes). Loads the fields the log shows only: never the text, subject or context."""
    messages = OutboxMessage.objects.annotate(state=LOG_STATE)
    scope = clinic_ids_with(user, "messages.view")
    if scope is not None:
        messages = messages.filter(clinic_id__in=scope)
    if clinic is not None:
        messages = messages.filter(clinic=clinic)
    if state:
        messages = messages.filter(state=state)
    if channel:
        messages = messages.filter(channel=channel)
    if date_from:
        messages = messages.filter(created_at__date__gte=date_from)
    if date_to:
        messages = messages.filter(created_at__date__lte=date_to)
    return messages.select_related("clinic").only(*LOG_FIELDS).order_by("-created_at", "-pk")


def mask_address(address: str) -> str:
    """Enough of an address to tell two apart, not to contact anyone: the last two digits of
    a phone, the first letter and the domain of an e-mail."""
    if "@" in address:
        local, _sep, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    if len(address) <= 4:
        return "•" * len(address)
    return f"{address[:2]}•••••{address[-2:]}"


@dataclass(frozen=True)
class TextCell:
    channel: str
    language: str
    source: str  # "clinic", "network" or "shipped"


@dataclass(frozen=True)
class EventTexts:
    event: Event
    cells: list[TextCell]


def message_text_overview(*, clinic: Clinic | None) -> list[EventTexts]:
    """Each editable event with, per channel and language, whose text applies in `clinic`
    (None: the network's defaults): the clinic's own, the network's, or the shipped one."""
    rows = MessageTemplate.objects.filter(
        Q(clinic__isnull=True) | Q(clinic=clinic) if clinic else Q(clinic__isnull=True)
    ).values_list("clinic_id", "event", "channel", "language")
    own = {(e, c, lang) for clinic_id, e, c, lang in rows if clinic_id is not None}
    network = {(e, c, lang) for clinic_id, e, c, lang in rows if clinic_id is None}
    overview = []
    for event in EVENTS.values():
        cells = []
        for channel in event.channels:
            for language, _label in settings.LANGUAGES:
                key = (event.name, channel, language)
                source = "clinic" if key in own else "network" if key in network else "shipped"
                cells.append(TextCell(channel, language, source))
        overview.append(EventTexts(event, cells))
    return overview
