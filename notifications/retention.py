"""The retention purge: delete old messages, keeping how many there were per day."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from notifications.choices import DeliveryStatus, LogState, MessageStatus
from notifications.models import MessageDailyCount, OutboxMessage

PURGE_BATCH = 2000

# Finished messages: the ones the purge may delete (pending and sending ones are in flight).
FINISHED = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)

# A message's state for the log and the counts: the outbox status, refined by the provider's
# last report once sent.
LOG_STATE = Case(
    When(status__in=[MessageStatus.PENDING, MessageStatus.SENDING], then=Value(LogState.QUEUED)),
    When(status=MessageStatus.FAILED, then=Value(LogState.FAILED)),
    When(status=MessageStatus.CANCELLED, then=Value(LogState.CANCELLED)),
    When(delivery_status=DeliveryStatus.DELIVERED, then=Value(LogState.DELIVERED)),
    When(delivery_status=DeliveryStatus.FAILED, then=Value(LogState.FAILED)),
    When(delivery_status=DeliveryStatus.EXPIRED, then=Value(LogState.EXPIRED)),
    default=Value(LogState.SENT),
    output_field=CharField(),
)


def outbox_purge_counted(*, days: int, batch: int = PURGE_BATCH) -> int:
    """Delete finished messages recorded more than `days` ago, adding each batch's counts per
    UTC day, clinic, channel, event and state to `MessageDailyCount` in the same transaction
    as its delete; returns how many were deleted.

    Incremental and idempotent: a message is counted exactly when it is deleted, so a second
    run (or one after a crash) finds nothing left to count twice, and the next night's run
    adds that night's messages to the days they belong to. The rows of each batch are locked
    while they are counted, so a status callback arriving at the same moment either lands
    before the count or finds its message gone.
    """
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(created_at__lt=cutoff, status__in=FINISHED)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted
            _add_counts(ids)
            OutboxMessage.objects.filter(pk__in=ids).delete()
            deleted += len(ids)


def _add_counts(ids: list[int]) -> None:
    groups = (
        OutboxMessage.objects.filter(pk__in=ids)
        .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC), state=LOG_STATE)
        .values("day", "clinic_id", "channel", "event", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for group in groups:
        key = Q(
            date=group["day"],
            channel=group["channel"],
            event=group["event"],
            status=group["state"],
        ) & (
            Q(clinic_id=group["clinic_id"])
            if group["clinic_id"] is not None
            else Q(clinic__isnull=True)
        )
        updated = MessageDailyCount.objects.filter(key).update(count=F("count") + group["n"])
        if not updated:
            MessageDailyCount.objects.create(
                date=group["day"],
                clinic_id=group["clinic_id"],
                channel=group["channel"],
                event=group["event"],
                status=group["state"],
                count=group["n"],
            )
