"""The registrar's day board: one clinic's doctors × the hours of one local day.

Reads a fixed number of queries whatever the number of doctors or appointments: the clinic's
doctors, their specialties, their rules, exceptions and stand-ins of the day (plain SQL shared
with the slot engine), the day's appointments with patient and service, the services offered,
and the free slots of one service from `free_slots` (the only source of slots). Everything is
placed in memory, in the clinic's own zone.

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
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from portal.models import Clinic, Patient
from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.db import UtcInstant, as_utc
from scheduling.models import (
    Appointment,
    Doctor,
    Occupancy,
    ScheduleException,
    ScheduleRule,
    Service,
)
from scheduling.selectors.availability import Slot, free_slots
from scheduling.selectors.availability.queries import (
    as_json,
    changes_sql,
    fetch,
    rules_sql,
    stand_ins_sql,
)
from scheduling.selectors.availability.schedule import (
    Rule,
    ScheduleChange,
    StandIn,
    Window,
    working_windows,
)

S = AppointmentStatus
# Shown faint (and only on request): the visit no longer takes its time.
RELEASED_STATUSES = frozenset({S.CANCELLED, S.ROLLED_BACK})
DEFAULT_HOURS = (8, 20)  # the hours shown when nobody works that day


@dataclass(frozen=True)
class BoardAppointment:
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


@dataclass(frozen=True)
class BoardSlot:
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


def clinic_services(clinic: Clinic) -> list[tuple[ServiceChoice, int]]:
    """Active services some active doctor of `clinic` offers, with how many do (one query)."""
    rows = (
        Service.objects.filter(is_active=True, doctors__clinics=clinic, doctors__is_active=True)
        .annotate(doctor_count=Count("doctors", distinct=True))
        .values(
            "public_id",
            "name",
            "specialty__name",
            "duration_minutes",
            "sort_order",
            "doctor_count",
        )
        .order_by("specialty__name", "sort_order", "name")
    )
    return [
        (
            ServiceChoice(
                public_id=row["public_id"],
                name=row["name"],
                specialty=row["specialty__name"],
                duration_minutes=row["duration_minutes"],
            ),
            row["doctor_count"],
        )
        for row in rows
    ]


def default_service_id(
    services: list[tuple[ServiceChoice, int]], doctor_service_ids: Collection[uuid.UUID] = ()
) -> uuid.UUID | None:
    """The service whose free times the board shows unless another is asked for: the chosen
    doctor's first one, else the one most doctors of the clinic offer."""
    if doctor_service_ids:
        for choice, _count in services:
            if choice.public_id in doctor_service_ids:
                return choice.public_id
    if not services:
        return None
    return max(services, key=lambda pair: pair[1])[0].public_id


def _windows_of_day(
    doctor_ids: list[int], clinic: Clinic, day: datetime.date
) -> dict[int, list[Window]]:
    """Each doctor's working windows in `clinic` on `day`, after exceptions and stand-ins."""
    if not doctor_ids:
        return {}
    stand_ins = fetch(
        StandIn, *stand_ins_sql(doctor_ids=doctor_ids, first=day, last=day, clinic_id=clinic.pk)
    )
    stood_in_for = {s.absent_doctor_id for s in stand_ins}
    rules = [
        rule._replace(breaks=as_json(rule.breaks))
        for rule in fetch(
            Rule,
            *rules_sql(
                doctor_ids=[*doctor_ids, *stood_in_for], first=day, last=day, clinic_id=clinic.pk
            ),
        )
    ]
    changes = fetch(
        ScheduleChange,
        *changes_sql(doctor_ids=doctor_ids, first=day, last=day, clinic_id=clinic.pk),
    )
    windows = working_windows(
        days=[day], doctor_ids=doctor_ids, rules=rules, changes=changes, stand_ins=stand_ins
    )
    return {
        doctor_id: sorted(found, key=lambda w: w.start)
        for (doctor_id, clinic_id, _day), found in windows.items()
        if clinic_id == clinic.pk and found
    }


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

    services = clinic_services(clinic)
    wanted = service_public_id
    if wanted not in {choice.public_id for choice, _count in services}:
        wanted = default_service_id(
            services, doctor_services.get(chosen["id"], set()) if chosen else ()
        )
    service = (
        Service.objects.select_related("specialty").filter(public_id=wanted).first()
        if wanted is not None
        else None
    )

    windows = _windows_of_day(doctor_ids, clinic, day)
    appointments = _appointments(clinic, doctor_ids, since, until)
    slots: list[Slot] = []
    if service is not None:
        slots = free_slots(
            service=service,
            clinic=clinic,
            doctor=Doctor(pk=chosen["id"]) if chosen else None,
            channel=AppointmentChannel.PHONE,
            start_date=day,
            end_date=day,
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


def day_board_version(*, clinic: Clinic, day: datetime.date, now: datetime.datetime) -> str:
    """A short token that changes whenever the board of `clinic` on `day` may look different:
    an appointment booked or changed, a hold taken or released, a rule or exception edited, or
    a minute passed (past times stop being free). One query."""
    since, until = local_day_bounds(clinic, day)
    appointments = Appointment.objects.filter(
        clinic=OuterRef("pk"), starts_at__gte=since, starts_at__lt=until
    )
    occupancy = Occupancy.objects.filter(
        clinic=OuterRef("pk"), starts_at__lt=until, ends_at__gt=since
    )
    rules = ScheduleRule.objects.filter(clinic=OuterRef("pk"))
    exceptions = ScheduleException.objects.filter(Q(clinic=OuterRef("pk")) | Q(clinic__isnull=True))

    def newest(qs: QuerySet[Any], column: str) -> Subquery:
        return Subquery(qs.order_by(f"-{column}").values(column)[:1])

    def count(qs: QuerySet[Any]) -> Subquery:
        return Subquery(qs.order_by().values("clinic").annotate(n=Count("id")).values("n")[:1])

    row = (
        Clinic.objects.filter(pk=clinic.pk)
        .annotate(
            appointment_changed=newest(appointments, "updated_at"),
            occupancy_newest=newest(occupancy, "id"),
            occupancy_count=Coalesce(count(occupancy), 0),
            rule_changed=newest(rules, "updated_at"),
            exception_changed=newest(exceptions, "updated_at"),
        )
        .values_list(
            "appointment_changed",
            "occupancy_newest",
            "occupancy_count",
            "rule_changed",
            "exception_changed",
        )
        .first()
    )
    minute = now.replace(second=0, microsecond=0).isoformat()
    digest = hashlib.sha256(f"{row}|{minute}".encode()).hexdigest()
    return digest[:16]
