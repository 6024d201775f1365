"""The registrar's day board: one clinic's doctors × the hours of one local day.

Reads a fixed number of queries whatever the number of doctors or appointments: the clinic's
doctors, their specialties, the services offered, the schedule of the day (stand-ins, rules,
exceptions, the clinic's policy: `load_doctors_schedule`, read once for every doctor), the
day's appointments with patient and service, and what is taken. The free slots of one service
come from the slot engine (`free_slots_in`, the very checks of `free_slots`) run on that same
schedule narrowed to the doctors offering the service, so the board reads no rule or
exception twice. Everything is placed in memory, in the clinic's own zone.

`day_board_version` is the board's cheap change check (one query): htmx polls it every few
seconds and the board is rendered again only when it moved.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from portal.models import Clinic, Patient
from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.db import UtcInstant, as_utc
from scheduling.models import (
    Appointment,
    Doctor,
    Service,
)
from scheduling.selectors.availability import Slot, free_slots_in
from scheduling.selectors.availability.free import checked_channels
from scheduling.selectors.availability.loading import (
    Asked,
    Schedule,
    load_doctors_schedule,
    with_equipment_of,
)
from scheduling.selectors.availability.schedule import Window, working_windows

S = AppointmentStatus
# Shown faint (and only on request): the visit no longer takes its time.
RELEASED_STATUSES = frozenset({S.CANCELLED, S.ROLLED_BACK})
DEFAULT_HOURS = (8, 20)  # the hours shown when nobody works that day


# Named tuples rather than frozen dataclasses: a full board makes a thousand of them, and a
# frozen dataclass sets each field through `object.__setattr__`.
class BoardAppointment(NamedTuple):
    public_id: uuid.UUID
    start: datetime.datetime  # in the clinic's zone
    status: str
    status_label: str
    # The surname only, decrypted once per patient on the board (the visit's own page shows
    # the whole name).
    patient_surname: str
    service_name: str
    channel: str

    @property
    def patient_name(self) -> str:
        return self.patient_surname

    @property
    def released(self) -> bool:
        return self.status in RELEASED_STATUSES


class BoardSlot(NamedTuple):
    slot_id: str
    start: datetime.datetime  # in the clinic's zone


@dataclass
class DoctorRow:
    doctor_id: int
    public_id: uuid.UUID
    name: str
    specialties: str
    hours: list[tuple[datetime.time, datetime.time]]
    # One list per hour column: appointments and free slots starting in that hour, by time.
    cells: list[list[BoardAppointment | BoardSlot]] = field(default_factory=list)
    free_count: int = 0
    booked_count: int = 0
    offers_service: bool = False  # the service whose free times the board shows

    @property
    def working(self) -> bool:
        return bool(self.hours) or self.booked_count > 0


@dataclass(frozen=True)
class ServiceChoice:
    public_id: uuid.UUID
    name: str
    specialty: str
    duration_minutes: int


@dataclass
class DayBoard:
    clinic: Clinic
    day: datetime.date
    zone: str
    utc_offset: str
    hours: list[int]
    rows: list[DoctorRow]
    off_today: list[DoctorRow]
    services: list[ServiceChoice]
    service: Service | None
    doctors: list[tuple[uuid.UUID, str]]  # every doctor of the clinic, for the filter
    status_counts: dict[str, int]
    show_released: bool


def local_day_bounds(clinic: Clinic, day: datetime.date) -> tuple[datetime.datetime, ...]:
    """The UTC instants of the local day's first minute and of the next day's."""
    tz = clinic.tz
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def _utc_offset(clinic: Clinic, day: datetime.date) -> str:
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=clinic.tz)
    offset = noon.utcoffset() or datetime.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _initials(first: str, middle: str) -> str:
    return "".join(f"{part[0]}." for part in (first, middle) if part)


def _short_name(last: str, first: str, middle: str) -> str:
    return f"{last} {_initials(first, middle)}".strip()


def _doctor_name(row: Mapping[str, Any]) -> str:
    return _short_name(row["last_name"], row["first_name"], row["middle_name"])


def clinic_services(clinic: Clinic) -> list[Service]:
    """Active services some active doctor of `clinic` offers, with their specialty and, as
    `doctor_count`, how many do (one query), in catalogue order."""
    return list(
        Service.objects.filter(is_active=True, doctors__clinics=clinic, doctors__is_active=True)
        .annotate(doctor_count=Count("doctors", distinct=True))
        .select_related("specialty")
        .order_by("specialty__name", "sort_order", "name")
    )


def _service_choice(service: Service) -> ServiceChoice:
    return ServiceChoice(
        public_id=service.public_id,
        name=service.name,
        specialty=service.specialty.name,
        duration_minutes=service.duration_minutes,
    )


def default_service_id(
    services: list[tuple[ServiceChoice, int]],
    doctor_service_ids: Collection[uuid.UUID] = (),
    working_counts: Mapping[uuid.UUID, int] | None = None,
) -> uuid.UUID | None:
    """The service whose free times the board shows unless another is asked for: the chosen
    doctor's first one, else the one most of the doctors working that day offer (then most
    doctors of the clinic), so the board opens on times someone can actually book."""
    if doctor_service_ids:
        for choice, _count in services:
            if choice.public_id in doctor_service_ids:
                return choice.public_id
    if not services:
        return None
    working = working_counts or {}
    return max(services, key=lambda pair: (working.get(pair[0].public_id, 0), pair[1]))[0].public_id


def _windows_of_day(
    schedule: Schedule, clinic: Clinic, day: datetime.date
) -> dict[int, list[Window]]:
    """Each doctor's working windows in `clinic` on `day`, after exceptions and stand-ins."""
    windows = working_windows(
        days=[day],
        doctor_ids=list(schedule.doctors),
        rules=schedule.rules,
        changes=schedule.changes,
        stand_ins=schedule.stand_ins,
    )
    return {
        doctor_id: sorted(found, key=lambda w: w.start)
        for (doctor_id, clinic_id, _day), found in windows.items()
        if clinic_id == clinic.pk and found
    }


def _free_slots(
    schedule: Schedule,
    *,
    service: Service,
    clinic: Clinic,
    doctor_ids: Collection[int],
    day: datetime.date,
    now: datetime.datetime | None,
) -> list[Slot]:
    """The free times of `service` on `day` (bookable by phone) of those of `doctor_ids` who
    offer it, from the schedule the board has read (no second read of rules and exceptions)."""
    if not service.is_active or not doctor_ids:
        return []
    channel = AppointmentChannel.PHONE
    return free_slots_in(
        schedule.narrowed_to(doctor_ids),
        asked=Asked(service=service, first=day, last=day, clinic_id=clinic.pk),
        channel=channel,
        quota_channel=checked_channels(channel, None),
        now=now or timezone.now(),
    )


def _as_time(minutes: int) -> datetime.time:
    return datetime.time(min(minutes, 24 * 60 - 1) // 60, min(minutes, 24 * 60 - 1) % 60)


def day_board(
    *,
    clinic: Clinic,
    day: datetime.date,
    doctor_public_id: uuid.UUID | None = None,
    service_public_id: uuid.UUID | None = None,
    show_released: bool = False,
    now: datetime.datetime | None = None,
) -> DayBoard:
    """The board of `clinic` on its local `day`, optionally narrowed to one doctor, with the
    free slots of one service (the asked one, else `default_service_id`) bookable by phone.

    The caller has checked that the user may see the clinic's board.
    """
    since, until = local_day_bounds(clinic, day)
    booked_here = Q(
        appointments__clinic=clinic,
        appointments__starts_at__gte=since,
        appointments__starts_at__lt=until,
    )
    doctors = list(
        Doctor.objects.filter(is_active=True)
        .filter(Q(clinics=clinic) | booked_here)
        .distinct()
        .values("id", "public_id", "last_name", "first_name", "middle_name")
        .order_by("last_name", "first_name", "id")
    )
    doctor_ids = [row["id"] for row in doctors]
    all_doctors = [(row["public_id"], _doctor_name(row)) for row in doctors]
    chosen = next((row for row in doctors if row["public_id"] == doctor_public_id), None)
    if chosen is not None:
        doctors = [chosen]
        doctor_ids = [chosen["id"]]
    specialties: dict[int, list[str]] = defaultdict(list)
    doctor_services: dict[int, set[uuid.UUID]] = defaultdict(set)
    for link in Doctor.services.through.objects.filter(doctor_id__in=doctor_ids).values(
        "doctor_id", "service__public_id", "service__specialty__name"
    ):
        doctor_services[link["doctor_id"]].add(link["service__public_id"])
        name = link["service__specialty__name"]
        if name not in specialties[link["doctor_id"]]:
            specialties[link["doctor_id"]].append(name)

    offered = clinic_services(clinic)
    services = [(_service_choice(s), s.doctor_count) for s in offered]  # type: ignore[attr-defined]

    schedule = load_doctors_schedule(
        {row["id"]: row["public_id"] for row in doctors},
        first=day,
        last=day,
        clinic_id=clinic.pk,
        service_id=None,
    )
    windows = _windows_of_day(schedule, clinic, day)
    wanted = service_public_id
    if wanted not in {choice.public_id for choice, _count in services}:
        working_counts: dict[uuid.UUID, int] = defaultdict(int)
        for doctor_id, doctor_windows in windows.items():
            if doctor_windows:
                for service_id in doctor_services.get(doctor_id, ()):
                    working_counts[service_id] += 1
        wanted = default_service_id(
            services, doctor_services.get(chosen["id"], set()) if chosen else (), working_counts
        )
    # The asked or default service is one of those offered: no query of its own.
    service = next((s for s in offered if s.public_id == wanted), None)
    if service is not None:
        schedule = with_equipment_of(schedule, service.pk)
    appointments = _appointments(clinic, doctor_ids, since, until)
    slots: list[Slot] = []
    if service is not None:
        slots = _free_slots(
            schedule,
            service=service,
            clinic=clinic,
            doctor_ids=[
                pk for pk in doctor_ids if service.public_id in doctor_services.get(pk, ())
            ],
            day=day,
            now=now,
        )

    hours = _hour_span(windows.values(), appointments, clinic)
    first_hour = hours[0]
    rows = {
        row["id"]: DoctorRow(
            doctor_id=row["id"],
            public_id=row["public_id"],
            name=_doctor_name(row),
            specialties=", ".join(sorted(specialties.get(row["id"], []))),
            hours=[
                (_as_time(w.start), _as_time(w.end)) for w in _merged(windows.get(row["id"], []))
            ],
            cells=[[] for _ in hours],
            offers_service=service is not None
            and service.public_id in doctor_services.get(row["id"], set()),
        )
        for row in doctors
    }
    status_counts: dict[str, int] = defaultdict(int)
    tz = clinic.tz
    for doctor_id, item in appointments:
        status_counts[item.status] += 1
        row = rows.get(doctor_id)
        if row is None or (item.released and not show_released):
            continue
        if not item.released:
            row.booked_count += 1
        _place(row, item, first_hour, len(hours))
    for slot in slots:
        row = rows.get(slot.doctor_id)
        if row is None or slot.clinic_id != clinic.pk:
            continue
        row.free_count += 1
        _place(
            row,
            BoardSlot(slot_id=slot.slot_id, start=slot.start.astimezone(tz)),
            first_hour,
            len(hours),
        )
    for row in rows.values():
        for cell in row.cells:
            cell.sort(key=lambda item: item.start)
    ordered = list(rows.values())
    return DayBoard(
        clinic=clinic,
        day=day,
        zone=clinic.timezone,
        utc_offset=_utc_offset(clinic, day),
        hours=hours,
        rows=[row for row in ordered if row.working or chosen is not None],
        off_today=[row for row in ordered if not row.working and chosen is None],
        services=[choice for choice, _count in services],
        service=service,
        doctors=all_doctors,
        status_counts=dict(status_counts),
        show_released=show_released,
    )


def _merged(windows: list[Window]) -> list[Window]:
    """Adjacent or overlapping windows as one span (breaks stay gaps)."""
    merged: list[Window] = []
    for window in windows:
        if merged and window.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = last._replace(end=max(last.end, window.end))
        else:
            merged.append(window)
    return merged


def _appointments(
    clinic: Clinic, doctor_ids: list[int], since: datetime.datetime, until: datetime.datetime
) -> list[tuple[int, BoardAppointment]]:
    """The day's visits of the doctors (two queries): the visits, then the surname of each
    patient among them, decrypted once per patient however many visits they have."""
    tz = clinic.tz
    labels = {value: str(label) for value, label in S.choices}
    rows = list(
        Appointment.objects.filter(
            clinic=clinic, doctor_id__in=doctor_ids, starts_at__gte=since, starts_at__lt=until
        )
        .annotate(start_utc=UtcInstant("starts_at"))
        .values_list(
            "doctor_id",
            "public_id",
            "start_utc",
            "status",
            "channel",
            "patient_id",
            "service__name",
        )
        .order_by("starts_at", "id")
    )
    surnames = dict(
        Patient.objects.filter(pk__in={row[5] for row in rows}).values_list("pk", "last_name")
    )
    return [
        (
            doctor_id,
            BoardAppointment(
                public_id=public_id,
                start=as_utc(start).astimezone(tz),
                status=status,
                status_label=labels.get(status, status),
                patient_surname=surnames.get(patient_id) or "",
                service_name=service_name,
                channel=channel,
            ),
        )
        for doctor_id, public_id, start, status, channel, patient_id, service_name in rows
    ]


def _hour_span(
    windows: Iterable[list[Window]],
    appointments: list[tuple[int, BoardAppointment]],
    clinic: Clinic,
) -> list[int]:
    """The local hours the board shows: from the earliest work or visit to the latest."""
    starts: list[int] = []
    ends: list[int] = []
    for day_windows in windows:
        for window in day_windows:
            starts.append(window.start // 60)
            ends.append((window.end - 1) // 60)
    for _doctor, item in appointments:
        starts.append(item.start.hour)
        ends.append(item.start.hour)
    if not starts:
        first, last = DEFAULT_HOURS
        return list(range(first, last))
    return list(range(min(starts), max(ends) + 1))


def _place(
    row: DoctorRow, item: BoardAppointment | BoardSlot, first_hour: int, columns: int
) -> None:
    index = min(max(item.start.hour - first_hour, 0), columns - 1)
    row.cells[index].append(item)


GENERATION_KEY = "scheduling:day-board:generation"

# `day_board_version`'s statement: what its query can see of the board in one row. Plain SQL:
# built by the ORM it cost more to compile than to run. Each part reads one index range.
VERSION_SQL = """
SELECT
  -- The day's visits here (index clinic, starts_at).
  (SELECT max(a.updated_at) FROM scheduling_appointment a
    WHERE a.clinic_id = %(clinic)s AND a.starts_at >= %(since)s AND a.starts_at < %(until)s),
  -- A doctor busy elsewhere is not free here: the day's visits of the clinic's doctors in any
  -- clinic (one range of the index doctor, starts_at per doctor).
  (SELECT max(a.updated_at) FROM scheduling_appointment a
    JOIN scheduling_doctor_clinics dc ON dc.doctor_id = a.doctor_id
    WHERE dc.clinic_id = %(clinic)s AND a.starts_at >= %(since)s AND a.starts_at < %(until)s),
  -- Holds only: a visit's own rows come and go with the visit, whose updated_at is read
  -- above. The newest and the count: a hold taken moves the first, one released the second,
  -- one expiring (its time free again) the count of live ones.
  h.newest, h.held, h.live,
  (SELECT max(r.updated_at) FROM scheduling_schedulerule r WHERE r.clinic_id = %(clinic)s),
  (SELECT max(e.updated_at) FROM scheduling_scheduleexception e
    WHERE e.clinic_id = %(clinic)s OR e.clinic_id IS NULL),
  -- A quota that gives way some hours before a slot frees times as the clock moves.
  EXISTS (SELECT 1 FROM scheduling_quota q
    WHERE q.clinic_id = %(clinic)s AND q.release_before_hours IS NOT NULL)
FROM (
  -- The day's holds here or on one of the clinic's doctors elsewhere. Hold rows are few
  -- (released, expired and purged): the partial index occupancy_hold_day_idx reads only them.
  SELECT max(o.id) AS newest, count(*) AS held,
    count(*) FILTER (WHERE o.expires_at IS NULL OR o.expires_at > %(now)s) AS live
  FROM scheduling_occupancy o
  WHERE o.hold_id IS NOT NULL AND o.starts_at < %(until)s AND o.ends_at > %(since)s
    AND (o.clinic_id = %(clinic)s OR (o.resource_kind = 'd' AND o.resource_id IN (
      SELECT dc.doctor_id FROM scheduling_doctor_clinics dc WHERE dc.clinic_id = %(clinic)s)))
) h
"""


def board_generation() -> str:
    """The token standing for what `day_board_version`'s query does not read (made on first
    use; a lost token is replaced by a new one, so eviction never brings back an old one)."""
    return str(cache.get_or_set(GENERATION_KEY, lambda: uuid.uuid4().hex, timeout=None))


def bump_board_generation() -> None:
    """Move every board's version: something its query does not read has changed (a name, a
    doctor joining a clinic, a stand-in, a closure, a quota, the policy, a deleted rule)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def day_board_version(*, clinic: Clinic, day: datetime.date, now: datetime.datetime) -> str:
    """A short token that changes whenever the board of `clinic` on `day` may look different:
    an appointment booked or changed (here, or a visit of one of its doctors in another
    clinic), a hold taken, released or expired, a rule or exception edited, or time passing
    where it shows (`board_clock`).

    The rest moves `board_generation` (`scheduling.signals`), which the token includes. One
    statement (`VERSION_SQL`) and one cache read.
    """
    since, until = local_day_bounds(clinic, day)
    with connection.cursor() as cursor:
        cursor.execute(
            VERSION_SQL, {"clinic": clinic.pk, "since": since, "until": until, "now": now}
        )
        row = cursor.fetchone()
    clock = board_clock(clinic=clinic, day=day, now=now, quota_releases=bool(row[-1]))
    digest = hashlib.sha256(f"{row}|{clock}|{board_generation()}".encode()).hexdigest()
    return digest[:16]


def board_clock(
    *, clinic: Clinic, day: datetime.date, now: datetime.datetime, quota_releases: bool
) -> str:
    """What of the clock the board of `day` shows. Today's: the minute (past times stop being
    free, the hour shown as now moves). Another day's only changes with the clinic's date (the
    "today" mark, the booking horizon) — its times are all past or all ahead, and an expiring
    hold moves the version by itself — unless a quota of the clinic gives way some hours before
    its slots, which frees times any minute: then the minute too."""
    today = now.astimezone(clinic.tz).date()
    if day == today or quota_releases:
        return now.replace(second=0, microsecond=0).isoformat()
    return today.isoformat()
