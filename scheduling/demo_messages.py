"""The messages of the demo's year of visits, for the dashboard's message delivery rate: a
booking message when a visit was booked, a reminder the day before and a cancellation notice,
by SMS (e-mail for a patient without a phone), with what the provider reported.

As the retention purge leaves them: the last `OUTBOX_RETENTION_DAYS` days as outbox rows
(address and text encrypted by the model's fields, the text naming no one), older days only
as the daily counts the purge keeps. The story: about nine SMS in ten reached the phone a
year ago, about 96 in 100 now; e-mail is steady.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from notifications.choices import Channel, DeliveryStatus, Lane, LogState, MessageStatus
from notifications.models import MessageDailyCount, OutboxMessage
from portal.demo import DemoContext
from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.models import Appointment

S = AppointmentStatus
DAY = datetime.timedelta(days=1)
YEAR = 365
# The provider's id of a message of the history (marks the history as seeded).
PREFIX = "demo-history-"
PROVIDERS = {Channel.SMS: "smsru", Channel.EMAIL: "email"}
TEXTS = {
    "appointment.booked": ("Запись на приём", "Вы записаны на {when}. {clinic}"),
    "appointment.reminder": ("Напоминание о приёме", "Ждём вас {when}. {clinic}"),
    "appointment.cancelled": ("Приём отменён", "Приём {when} отменён. {clinic}"),
}
# The final report's state of each delivery status (a message without one: just sent).
LOG_STATE: dict[str, str] = {
    DeliveryStatus.DELIVERED: LogState.DELIVERED,
    DeliveryStatus.FAILED: LogState.FAILED,
    DeliveryStatus.EXPIRED: LogState.EXPIRED,
    DeliveryStatus.SENT: LogState.SENT,
}


def seed_messages(ctx: DemoContext) -> int:
    """The past year's visit messages of the demo clinics (once). Returns how many."""
    if (
        MessageDailyCount.objects.exists()
        or OutboxMessage.objects.filter(provider_message_id__startswith=PREFIX).exists()
    ):
        return 0
    rng = ctx.rng
    now = timezone.now()
    kept_from = now - settings.OUTBOX_RETENTION_DAYS * DAY
    clinics = {c.pk: c for c in ctx.clinics.values()}
    contacts = {p.pk: (p.phone, p.email) for p in ctx.patients}
    visits = (
        Appointment.objects.filter(
            clinic_id__in=list(clinics), created_at__gte=now - YEAR * DAY, created_at__lt=now
        )
        .exclude(channel=AppointmentChannel.WALK_IN)
        .exclude(status=S.ROLLED_BACK)
        .values_list("patient_id", "clinic_id", "created_at", "starts_at", "cancelled_at")
        .order_by("pk")
    )
    outbox: list[OutboxMessage] = []
    counts: Counter[tuple[datetime.date, int, str, str, str]] = Counter()
    for patient_id, clinic_id, created, starts, cancelled in visits.iterator(chunk_size=5000):
        phone, email = contacts.get(patient_id, ("", ""))
        if not phone and not email:
            continue
        channel = Channel.SMS if phone else Channel.EMAIL
        moments = [("appointment.booked", created)]
        reminder = starts - DAY
        if created < reminder < now and not (cancelled and cancelled < reminder):
            moments.append(("appointment.reminder", reminder))
        if cancelled is not None and cancelled < now:
            moments.append(("appointment.cancelled", cancelled))
        for event, at in moments:
            report = _report(rng, channel, at, now)
            if at < kept_from:
                counts[(at.astimezone(datetime.UTC).date(), clinic_id, channel, event, report)] += 1
                continue
            clinic = clinics[clinic_id]
            when = starts.astimezone(clinic.tz).strftime("%d.%m в %H:%M")
            subject, body = TEXTS[event]
            sent = at + datetime.timedelta(seconds=rng.randint(2, 40))
            outbox.append(
                OutboxMessage(
                    event=event,
                    channel=channel,
                    patient_id=patient_id,
                    clinic_id=clinic_id,
                    lane=Lane.BULK if event == "appointment.reminder" else Lane.CRITICAL,
                    to_address=phone or email,
                    subject=subject if channel == Channel.EMAIL else "",
                    body=body.format(when=when, clinic=clinic.name),
                    status=MessageStatus.SENT,
                    due_at=at,
                    attempts=1,
                    sent_at=sent,
                    provider=PROVIDERS[channel],
                    provider_message_id=f"{PREFIX}{len(outbox)}",
                    delivery_status=report,
                    delivery_updated_at=sent + datetime.timedelta(seconds=rng.randint(5, 600)),
                )
            )
    written = OutboxMessage.objects.bulk_create(outbox, batch_size=1000)
    # `created_at` is stamped on insert; a message of the history was recorded when it was due.
    OutboxMessage.objects.filter(pk__in=[m.pk for m in written]).update(created_at=F("due_at"))
    MessageDailyCount.objects.bulk_create(
        (
            MessageDailyCount(
                date=day,
                clinic_id=clinic_id,
                channel=channel,
                event=event,
                status=LOG_STATE[report],
                count=n,
            )
            for (day, clinic_id, channel, event, report), n in sorted(counts.items())
        ),
        batch_size=1000,
    )
    return len(outbox) + sum(counts.values())


def _report(rng: Any, channel: str, at: datetime.datetime, now: datetime.datetime) -> str:
    """The provider's last report of a message sent at `at`."""
    if channel == Channel.EMAIL:
        return DeliveryStatus.DELIVERED if rng.random() < 0.97 else DeliveryStatus.FAILED
    age = min(1.0, (now - at).total_seconds() / (YEAR * 86400))
    roll = rng.random()
    if roll < 0.90 + 0.06 * (1 - age):
        return DeliveryStatus.DELIVERED
    if roll < 0.995:
        return DeliveryStatus.FAILED if rng.random() < 0.6 else DeliveryStatus.EXPIRED
    return DeliveryStatus.SENT  # no final report came
