"""The assistant's figures (issue #18, "Measured"): how many conversations it settled without
an operator, how many it handed over, and how soon a conversation that booked a visit got
there. Read from the conversations themselves (a handful of rows a day per clinic).

A conversation counts once the patient has written in it (an opened widget is not a
conversation), on the local day it started, for the clinic it is about; one without a clinic
(most questions about prices or hours) counts for the network only. The specialty and doctor
filters do not apply to conversations.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum

from analytics.selectors.localdays import local_period
from analytics.selectors.scope import Scope
from crm.models import Conversation


@dataclass(frozen=True)
class ConversationFigures:
    conversations: int
    resolved: int
    handed_over: int
    # Visits the assistant booked in these conversations.
    bookings: int
    # Median minutes from the first message to the first visit booked, None: none booked.
    minutes_to_booking: float | None


def conversation_figures(
    *, scope: Scope, zones: Mapping[int, ZoneInfo] | None = None
) -> ConversationFigures:
    """The conversations started in the period: two queries (three without `zones`, the
    scope's clinics and their time zones)."""
    qs = Conversation.objects.filter(
        local_period(scope, "created_at", with_network=True, zones=zones),
        last_message_at__isnull=False,
    )
    row = qs.aggregate(
        conversations=Count("pk"),
        resolved=Count("pk", filter=Q(resolved_without_operator=True)),
        handed_over=Count("pk", filter=Q(handed_over_at__isnull=False)),
        bookings=Sum("bookings_made"),
    )
    waits = [
        (booked - started).total_seconds() / 60
        for started, booked in qs.filter(booked_at__isnull=False).values_list(
            "created_at", "booked_at"
        )
        if booked is not None
    ]
    return ConversationFigures(
        conversations=row["conversations"],
        resolved=row["resolved"],
        handed_over=row["handed_over"],
        bookings=row["bookings"] or 0,
        minutes_to_booking=statistics.median(waits) if waits else None,
    )
