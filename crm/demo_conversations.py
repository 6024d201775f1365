"""Three months of the assistant's past conversations, so the dashboard's assistant figures
(resolved without an operator, handoff rate, time to a booked visit) have a story on
`make run`. Each is a short exchange with generated texts; the handed-over ones were answered
and closed by an operator long ago, so the operator inbox stays as the other demo data left it.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from crm.choices import ConversationChannel, ConversationStatus, HandoffReason, TurnAuthor
from crm.models import Conversation, Turn
from portal.demo import DemoContext

DAYS = 90
PER_DAY = (4, 11)
# (patient's text, intent, what happened): "resolved", "booked", "handoff" or "open".
EXCHANGES = (
    ("Сколько стоит приём терапевта?", "price", "resolved"),
    ("Как подготовиться к УЗИ брюшной полости?", "preparation", "resolved"),
    ("Во сколько вы открываетесь в субботу?", "directions", "resolved"),
    ("Запишите к кардиологу на пятницу утром", "book", "booked"),
    ("Хочу к стоматологу завтра после обеда", "book", "booked"),
    ("Позовите администратора, пожалуйста", "handoff", "handoff"),
    ("Мне не перезвонили, очень недоволен", "handoff", "handoff"),
    ("Какой врач лечит мигрень?", "doctor_info", "resolved"),
    ("А можно с собакой?", "unknown", "open"),
)
CHANNELS = (ConversationChannel.WIDGET,) * 3 + (ConversationChannel.TELEGRAM,)


def seed(ctx: DemoContext) -> int:
    """Past conversations, once (any conversation already there leaves the demo alone)."""
    if Conversation.objects.exists():
        return 0
    rng = ctx.rng
    clinics = list(ctx.clinics.values())
    now = timezone.now()
    made = []
    for back in range(DAYS, 0, -1):
        for _n in range(rng.randint(*PER_DAY)):
            started = now - datetime.timedelta(
                days=back, hours=rng.randint(0, 12), minutes=rng.randint(0, 59)
            )
            text, intent, outcome = rng.choice(EXCHANGES)
            # Older conversations were handed over more often: the knowledge base grew.
            if outcome == "resolved" and rng.random() < 0.25 * back / DAYS:
                outcome = "handoff"
            made.append((started, text, intent, outcome, rng.choice(clinics + [None, None])))
    conversations = []
    for started, _text, _intent, outcome, clinic in made:
        booked = outcome == "booked"
        handed = outcome == "handoff"
        conversations.append(
            Conversation(
                channel=rng.choice(CHANNELS),
                clinic=clinic,
                status=ConversationStatus.CLOSED,
                resolved_without_operator=outcome in ("resolved", "booked"),
                handoff_reason=HandoffReason.ASKED if handed else "",
                handed_over_at=started + datetime.timedelta(minutes=1) if handed else None,
                operator_answered_at=(
                    started + datetime.timedelta(minutes=rng.randint(3, 14)) if handed else None
                ),
                bookings_made=1 if booked else 0,
                booked_at=(
                    started + datetime.timedelta(minutes=rng.randint(2, 25)) if booked else None
                ),
                last_message_at=started + datetime.timedelta(minutes=2),
                closed_at=started + datetime.timedelta(hours=1),
            )
        )
    created = Conversation.objects.bulk_create(conversations, batch_size=500)
    turns = []
    for conversation, (_started, text, intent, _outcome, _clinic) in zip(
        created, made, strict=True
    ):
        turns.append(Turn(conversation=conversation, author=TurnAuthor.PATIENT, text=text))
        turns.append(
            Turn(
                conversation=conversation,
                author=TurnAuthor.ASSISTANT,
                text="…",
                intent=intent,
                confidence=0.9 if intent != "unknown" else 0.2,
            )
        )
    Turn.objects.bulk_create(turns, batch_size=500)
    # `created_at` is set on insert; the history needs its own start times.
    for conversation, (started, *_rest) in zip(created, made, strict=True):
        conversation.created_at = started
    Conversation.objects.bulk_update(created, ["created_at"], batch_size=500)
    return len(created)
