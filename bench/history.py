"""A year of visit history in bulk, for the phases that read history at network scale (the CRM's
funnel and segments, the director's dashboard).

`bench.history_staff.staff(...)` writes the catalogue and the people who see patients with
`bulk_create`: specialties and their services, `DOCTORS_PER_CLINIC` doctors per clinic, each in
a cabinet of their own with weekly rules (five days of `SHIFT`, 30-minute steps). `load(...)`
then writes
`count` appointments over `days` days up to and including `until` (plus a short booked
future) through PostgreSQL's COPY, psycopg's public `Cursor.copy()` reached through Django's
`connection.cursor()`, and the occupancy rows production keeps for them with one
`INSERT ... SELECT`.

What is loaded, by construction:
- every visit sits on its doctor's grid (one service of the doctor's specialty, within the
  doctor's rule for that weekday, in the clinic's local time), at most one per slot, so no
  doctor and no cabinet is ever double-booked; `overlaps()` lets the database confirm it;
- past visits are completed (~78 %), cancelled (~11 %, a quarter of them late), no-shows
  (~7 %) or rolled back (~0.5 %); future ones booked or confirmed; channels online 45 %,
  phone 35 %, walk-in 9 %, waiting list 3 %, booking requests 3 %, external systems 5 %;
  prices are the service's, one visit in eight with a 10 % discount;
- patients are drawn from the given ids with a skew (a few come often, most once or twice).

Encrypted columns (`cancel_reason`) are written as the field itself prepares them
(`Field.get_db_prep_value`), so PII-at-rest holds in the loaded rows too. Appointment events
(the audit trail of each change) are not loaded: history readers count appointments. Past
visits' occupancy rows are not loaded either unless asked (see `load`).

`python -m bench.history` loads `BENCH_HISTORY_APPOINTMENTS` (default 1,000,000) into a
throw-away bench database (as `make bench` recreates it) and prints the load time.
"""

from __future__ import annotations

import datetime
import os
import random
import sys
import time
import uuid
from decimal import Decimal

from bench.console import log
from bench.history_staff import SHIFT, STEP_MINUTES, Seat, staff

DEFAULT_COUNT = 1_000_000
FUTURE_DAYS = 14
PAST_STATUSES = (
    ("completed", 0.785),
    ("cancelled", 0.11),
    ("no_show", 0.07),
    ("rolled_back", 0.005),
    ("completed", 0.03),  # the rest
)
CHANNELS = (
    ("online", 0.45),
    ("phone", 0.35),
    ("walk_in", 0.09),
    ("waitlist", 0.03),
    ("request", 0.03),
    ("connector", 0.05),
)
CANCEL_REASONS = ("Заболел", "Не могу прийти", "Перенесу позже", "Уехал", "")
COLUMNS = (
    "public_id",
    "patient_id",
    "doctor_id",
    "clinic_id",
    "service_id",
    "room_id",
    "starts_at",
    "ends_at",
    "buffer_minutes",
    "status",
    "channel",
    "quota_channel",
    "price",
    "discount",
    "reschedule_count",
    "cancel_reason",
    "late_cancel",
    "created_at",
    "updated_at",
    "confirmed_at",
    "checked_in_at",
    "completed_at",
    "cancelled_at",
    "no_show_at",
    "rolled_back_at",
)


def _pick(rng: random.Random, table) -> str:
    roll = rng.random()
    for value, share in table:
        roll -= share
        if roll < 0:
            return value
    return table[-1][0]


def _slots(seats: list[Seat], first: datetime.date, last: datetime.date):
    """Every (seat, start) of the doctors' grids from `first` to `last`, day by day."""
    per_day = int(
        (datetime.datetime.combine(first, SHIFT[1]) - datetime.datetime.combine(first, SHIFT[0]))
        / datetime.timedelta(minutes=STEP_MINUTES)
    )
    day = first
    while day <= last:
        weekday = day.weekday()
        for seat in seats:
            if weekday not in seat.weekdays:
                continue
            opening = datetime.datetime.combine(day, SHIFT[0], tzinfo=seat.zone)
            for step in range(per_day):
                yield seat, opening + datetime.timedelta(minutes=STEP_MINUTES * step)
        day += datetime.timedelta(days=1)


def _grid_size(seats: list[Seat], first: datetime.date, last: datetime.date) -> int:
    per_day = (SHIFT[1].hour - SHIFT[0].hour) * 60 // STEP_MINUTES
    days = (last - first).days + 1
    by_weekday = [0] * 7
    for offset in range(days):
        by_weekday[(first + datetime.timedelta(days=offset)).weekday()] += 1
    return sum(by_weekday[w] for seat in seats for w in seat.weekdays) * per_day


def _row(seat: Seat, start, patient_id: int, *, now, rng, encrypted: dict) -> tuple:
    end = start + datetime.timedelta(minutes=seat.minutes)
    channel = _pick(rng, CHANNELS)
    created = start - datetime.timedelta(minutes=rng.randrange(30, 60 * 24 * 21))
    discount = (seat.price / 10).quantize(Decimal("0.01")) if rng.random() < 0.125 else Decimal(0)
    confirmed = checked_in = completed = cancelled = no_show = rolled_back = None
    late = False
    reason = encrypted[""]
    if start >= now:
        status = "confirmed" if rng.random() < 0.4 else "booked"
        # Booked and confirmed at least an hour before the load, never in the future: the
        # rollups' refresh takes anything stamped near its watermark for a change.
        if created >= now - datetime.timedelta(hours=1):
            created = now - datetime.timedelta(minutes=rng.randrange(61, 60 * 24))
        if status == "confirmed":
            confirmed = min(
                now - datetime.timedelta(hours=1),
                start - datetime.timedelta(hours=rng.randrange(2, 48)),
            )
            created = min(created, confirmed)
        updated = confirmed or created
    else:
        status = _pick(rng, PAST_STATUSES)
        if status == "completed":
            confirmed = start - datetime.timedelta(hours=rng.randrange(2, 48))
            checked_in = start - datetime.timedelta(minutes=rng.randrange(1, 20))
            completed = end
            updated = end
        elif status == "cancelled":
            late = rng.random() < 0.25
            hours = rng.randrange(1, 12) if late else rng.randrange(24, 24 * 7)
            cancelled = max(created, start - datetime.timedelta(hours=hours))
            reason = encrypted[rng.choice(CANCEL_REASONS)]
            updated = cancelled
        elif status == "no_show":
            no_show = start + datetime.timedelta(minutes=20)
            updated = no_show
        else:
            rolled_back = created + datetime.timedelta(seconds=rng.randrange(1, 30))
            updated = rolled_back
        created = min(created, updated)
    quota = channel if channel in ("online", "phone") else ""
    return (
        uuid.UUID(int=rng.getrandbits(128), version=4),
        patient_id,
        seat.doctor_id,
        seat.clinic_id,
        seat.service_id,
        seat.room_id,
        start,
        end,
        0,
        status,
        channel,
        quota,
        seat.price - discount,
        discount,
        0,
        reason,
        late,
        created,
        updated,
        confirmed,
        checked_in,
        completed,
        cancelled,
        no_show,
        rolled_back,
    )


def load(
    *,
    count: int,
    seats: list[Seat],
    patient_ids: list[int],
    until: datetime.date,
    days: int = 365,
    seed: int = 17,
    loaded: int = 0,
    past_occupancy: bool = False,
) -> dict:
    """Write `count` appointments on `seats` from `until - days + 1` to `until + FUTURE_DAYS`
    (the share after now booked or confirmed) and their occupancy; figures of the load.

    A history grows in steps without overlaps: called again with the same seats, days and
    seed and `loaded` = the sum of the counts earlier calls were asked for (not what they
    wrote, which can fall a little short), it fills slots the earlier calls left free (each
    slot draws one number from a stream fixed by `seed`; a call takes the slots whose number
    falls in its own band, so each call writes its count give or take a fraction of a percent).
    So a phase can measure at 10,000 visits, load 990,000 more over the same year (with
    `loaded=10_000`), and measure again.

    Occupancy rows are written for the visits still ahead, which the free-slot engine reads.
    Production also keeps them for past completed visits and no-shows; `past_occupancy=True`
    writes those too, but the exclusion constraint's GiST index makes that the slowest part of
    the load by far (for a million visits it had not finished after seven and a half minutes
    on a busy 2-core machine, when it was stopped), and nothing that reads history reads them."""
    from django.db import connection, transaction
    from django.utils import timezone

    from scheduling.choices import OCCUPYING_STATUSES, ResourceKind
    from scheduling.models import Appointment, Occupancy

    rng = random.Random(seed + loaded)
    first = until - datetime.timedelta(days=days - 1)
    last = until + datetime.timedelta(days=FUTURE_DAYS)
    grid = _grid_size(seats, first, last)
    if loaded + count > grid:
        raise ValueError(f"{loaded} + {count} visits do not fit {len(seats)} doctors' {grid} slots")
    band = (loaded / grid, (loaded + count) / grid)
    fill = count / grid
    slot_draws = random.Random(seed * 7919)
    now = timezone.now()
    reason_field = Appointment._meta.get_field("cancel_reason")
    encrypted = {
        text: reason_field.get_db_prep_value(text, connection, prepared=False)
        for text in CANCEL_REASONS
    }
    # A skewed draw: the square of a uniform number favours the first ids (frequent visitors).
    shuffled = list(patient_ids)
    rng.shuffle(shuffled)
    people = len(shuffled)
    table = Appointment._meta.db_table
    started = time.perf_counter()
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        before = Appointment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for seat, start in _slots(seats, first, last):
                if written >= count:
                    break
                if not band[0] <= slot_draws.random() < band[1]:
                    continue
                patient = shuffled[int(people * rng.random() ** 2)]
                copy.write_row(_row(seat, start, patient, now=now, rng=rng, encrypted=encrypted))
                written += 1
        copied = time.perf_counter() - started
        occupancy = Occupancy._meta.db_table
        # What `occupancy_take` writes for a visit: the doctor (through the buffer) and the
        # cabinet, while the visit keeps its time.
        since = datetime.datetime.min.replace(tzinfo=datetime.UTC) if past_occupancy else now
        cursor.execute(
            f"""
            INSERT INTO {occupancy} (resource_kind, resource_id, clinic_id, starts_at, ends_at,
                                     appointment_id)
            SELECT %s, doctor_id, clinic_id, starts_at,
                   ends_at + make_interval(mins => buffer_minutes), id
              FROM {table} WHERE id > %s AND status = ANY(%s) AND ends_at > %s
            UNION ALL
            SELECT %s, room_id, clinic_id, starts_at, ends_at, id
              FROM {table}
             WHERE id > %s AND status = ANY(%s) AND ends_at > %s AND room_id IS NOT NULL
            """,  # noqa: S608 - table names come from model metadata
            [
                ResourceKind.DOCTOR,
                before,
                list(OCCUPYING_STATUSES),
                since,
                ResourceKind.ROOM,
                before,
                list(OCCUPYING_STATUSES),
                since,
            ],
        )
        occupancy_rows = cursor.rowcount
    occupied = time.perf_counter() - started - copied
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would gather after a load this size.
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {occupancy}")
    return {
        "appointments": written,
        "occupancy_rows": occupancy_rows,
        "past_occupancy": past_occupancy,
        "doctors": len(seats),
        "clinics": len({seat.clinic_id for seat in seats}),
        "patients": people,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "grid_fill": round(fill, 3),
        "copy_s": round(copied, 1),
        "occupancy_s": round(occupied, 1),
        "load_s": round(time.perf_counter() - started, 1),
    }


def overlaps() -> int:
    """Visits of one doctor that overlap while both keep their time (must be 0), found with a
    window over each doctor's visits (linear, unlike a self-join on a million rows)."""
    from django.db import connection

    from scheduling.choices import OCCUPYING_STATUSES
    from scheduling.models import Appointment

    table = Appointment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM (
              SELECT starts_at, lag(ends_at) OVER (PARTITION BY doctor_id ORDER BY starts_at)
                     AS previous_end
                FROM {table} WHERE status = ANY(%s)
            ) visits WHERE previous_end > starts_at
            """,  # noqa: S608 - table names come from model metadata
            [list(OCCUPYING_STATUSES)],
        )
        return cursor.fetchone()[0]


def main() -> int:
    """Load a history into a fresh bench database and report how long it took."""
    from bench import config, database

    cfg = config.Config(dict(os.environ))
    count = int(os.environ.get("BENCH_HISTORY_APPOINTMENTS", str(DEFAULT_COUNT)))
    os.environ.update(config.bench_environment(cfg))
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)
    database.recreate_database(cfg)
    try:
        database.setup_django()
        database.migrate()
        from bench import crm_seed

        clinics = crm_seed.demo_clinics()
        started = time.perf_counter()
        patient_ids = crm_seed.seed_patients(count=max(1000, count // 10), clinics=clinics).ids
        log(f"{len(patient_ids)} patients in {time.perf_counter() - started:.1f} s")
        from django.utils import timezone

        today = timezone.localdate()
        roster = staff(
            clinics + crm_seed.branch_clinics(), since=today - datetime.timedelta(days=400)
        )
        figures = load(
            count=count,
            seats=roster.seats,
            patient_ids=patient_ids,
            until=today - datetime.timedelta(days=1),
        )
        figures["overlaps"] = overlaps()
        log(f"history: {figures}")
    finally:
        from django.db import connections

        connections.close_all()
        if not cfg.keep_db:
            database.drop_database(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
