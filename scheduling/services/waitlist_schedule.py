"""Offering the times a schedule change opened to the waiting list.

A cancellation frees one known time; a schedule change (a weekly rule added or widened, extra
hours, an absence removed, a room's or device's closure lifted) may open many, and which ones
only the free-slot engine can say. So the change's service calls `waitlist_watch_schedule` in
its transaction *before* writing: the doctor's (or the clinic's) free times in the affected
days are read as they stand. Once the change commits, the task `offer_opened_slots` reads them
again (`waitlist_schedule_opened`); each time free now and not before that some waiting patient
fits is offered through `waitlist_slot_opened`, exactly as a cancelled visit's time is (holds,
batches, first YES wins, contact hours, audit). A change rolled back offers nothing.

Kept cheap and bounded: nothing is read when no active entry could want the change's days;
only the services such entries want are searched, only from today to WAITLIST_SCHEDULE_DAYS
ahead, through the waitlist's booking channel. Of the times opened, the earliest go first and
a time overlapping one already offered for the same doctor is skipped (two offers could not
both be booked). A time offered before is never offered again, so a repeated run is harmless.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.models import Clinic
from scheduling.choices import AppointmentChannel, WaitlistStatus
from scheduling.models import Doctor, FreedSlot, Service, WaitlistEntry
from scheduling.selectors.availability import Slot, free_slots
from scheduling.services.waitlist_offers import waitlist_slot_opened

TimeKey = tuple[int, int, str]  # doctor, service, start (UTC, ISO)


def waitlist_watch_schedule(
    *,
    clinics: list[Clinic],
    doctor: Doctor | None,
    first: datetime.date,
    last: datetime.date | None,
    now: datetime.datetime | None = None,
) -> None:
    """Call in a schedule change's transaction before it writes anything: `doctor`'s times
    (every doctor's, for None) in `clinics` from `first` to `last` (local dates, open-ended for
    None) may open. Reads what is free now and, once the transaction commits, has the times
    the change opened offered to the waiting list."""
    now = now or timezone.now()
    watch = _watch(clinics=clinics, doctor=doctor, first=first, last=last, now=now)
    if watch is None:
        return
    # tasks.py imports the booking services; the task is looked up when first needed.
    from scheduling.tasks import offer_opened_slots

    watch["before"] = sorted(_free_times(watch, now=now))
    # A broker that is down must not fail the committed change: logged (as for cancellations).
    transaction.on_commit(lambda: offer_opened_slots.delay(watch), robust=True)


def waitlist_schedule_opened(
    watch: dict[str, Any], *, now: datetime.datetime | None = None
) -> list[FreedSlot]:
    """The task's work, after the change committed: offer each time of `watch` free now that
    was not free before (`waitlist_watch_schedule`), earliest first. The slots offered."""
    now = now or timezone.now()
    before = {(d, s, start) for d, s, start in watch["before"]}
    after = _free_times(watch, now=now)
    opened = sorted(
        (slot for key, slot in after.items() if key not in before),
        key=lambda slot: (slot.start_utc, slot.doctor_id, slot.service_id),
    )
    clinics = Clinic.objects.in_bulk(watch["clinics"])
    doctors = Doctor.objects.in_bulk({slot.doctor_id for slot in opened})
    services = Service.objects.select_related("specialty").in_bulk(
        {slot.service_id for slot in opened}
    )
    offered: list[FreedSlot] = []
    for slot in opened:
        if any(_overlap(slot, other) for other in offered):
            continue
        freed = waitlist_slot_opened(
            clinic=clinics[slot.clinic_id],
            doctor=doctors[slot.doctor_id],
            service=services[slot.service_id],
            starts_at=slot.start_utc,
            now=now,
        )
        if freed is not None:
            offered.append(freed)
    return offered


def _overlap(slot: Slot, offered: FreedSlot) -> bool:
    ends = offered.starts_at + datetime.timedelta(minutes=offered.service.duration_minutes)
    return (
        offered.doctor_id == slot.doctor_id
        and offered.starts_at < slot.end_utc
        and slot.start_utc < ends
    )


def _watch(
    *,
    clinics: list[Clinic],
    doctor: Doctor | None,
    first: datetime.date,
    last: datetime.date | None,
    now: datetime.datetime,
) -> dict[str, Any] | None:
    """What to search: the days from `first` to `last` cut to today (the clinics' earliest
    local date) and the horizon, and the services active entries want there. None when
    nothing can come of it."""
    today = min(now.astimezone(clinic.tz).date() for clinic in clinics)
    first = max(first, today)
    horizon = today + datetime.timedelta(days=settings.WAITLIST_SCHEDULE_DAYS - 1)
    last = horizon if last is None else min(last, horizon)
    if last < first:
        return None
    services = _wanted_services(clinics=clinics, doctor=doctor, first=first, last=last)
    if not services:
        return None
    return {
        "clinics": [clinic.pk for clinic in clinics],
        "doctor": doctor.pk if doctor is not None else None,
        "services": services,
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


def _wanted_services(
    *, clinics: list[Clinic], doctor: Doctor | None, first: datetime.date, last: datetime.date
) -> list[int]:
    """The services of the doctor (of the clinics' doctors) that an active entry waiting in
    these days and clinics could be offered: its service, or one of its specialty."""
    cities = ["", *{clinic.city for clinic in clinics}]
    entries = WaitlistEntry.objects.filter(
        Q(clinic__in=clinics) | Q(clinic__isnull=True, city__in=cities),
        status=WaitlistStatus.ACTIVE,
        date_from__lte=last,
        date_to__gte=first,
    )
    doctors = Doctor.objects.filter(is_active=True, clinics__in=clinics)
    if doctor is not None:
        entries = entries.filter(Q(doctor__isnull=True) | Q(doctor=doctor))
        doctors = doctors.filter(pk=doctor.pk)
    services = Service.objects.filter(
        Q(pk__in=entries.values("service_id")) | Q(specialty__in=entries.values("specialty_id")),
        is_active=True,
        doctors__in=doctors,
    )
    return sorted(set(services.values_list("pk", flat=True)))


def _free_times(watch: dict[str, Any], *, now: datetime.datetime) -> dict[TimeKey, Slot]:
    """The free times of the watch's services in its clinics and days, through the
    waitlist's channel, by (doctor, service, start)."""
    first = datetime.date.fromisoformat(watch["first"])
    last = datetime.date.fromisoformat(watch["last"])
    doctor = Doctor.objects.filter(pk=watch["doctor"]).first() if watch["doctor"] else None
    found: dict[TimeKey, Slot] = {}
    for clinic in Clinic.objects.filter(pk__in=watch["clinics"]):
        for service in Service.objects.filter(pk__in=watch["services"]):
            for slot in free_slots(
                service=service,
                doctor=doctor,
                clinic=clinic,
                channel=AppointmentChannel.WAITLIST,
                start_date=first,
                end_date=last,
                now=now,
            ):
                found[(slot.doctor_id, slot.service_id, slot.start_utc.isoformat())] = slot
    return found
