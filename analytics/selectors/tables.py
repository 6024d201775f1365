"""The dashboard's tables, built from one `Figures`: the same rows feed the page and the
CSV/XLSX exports. Names are loaded in three queries (clinics, doctors, services)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analytics.selectors.dashboard import Figures, ratio
from analytics.selectors.facts import Counts, CubeKey
from portal.models import Clinic
from scheduling.choices import AppointmentChannel
from scheduling.models import Doctor, Service


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    # "text", "count", "percent", "money", "per_mille"
    kind: str = "count"


@dataclass
class Table:
    code: str
    title: str | Promise
    columns: list[Column]
    rows: list[dict[str, Any]]

    def sort(self, key: str | None) -> str | None:
        """Sort by a column (`-key`: descending); unknown keys leave the order. Returns the
        key applied."""
        if not key:
            return None
        name = key.lstrip("-")
        if name not in {c.key for c in self.columns}:
            return None
        present = [r for r in self.rows if r.get(name) is not None]
        missing = [r for r in self.rows if r.get(name) is None]
        present.sort(key=lambda r: r[name], reverse=key.startswith("-"))
        self.rows = present + missing
        return key


TABLES = ("clinics", "doctors", "services", "channels")

QUALITY = [
    Column("bookings", _("Bookings")),
    Column("online_share", _("Online"), "percent"),
    Column("visits", _("Visits due")),
    Column("no_show_rate", _("No-shows"), "percent"),
    Column("cancellation_rate", _("Cancelled"), "percent"),
    Column("late_cancellation_rate", _("Cancelled late"), "percent"),
    Column("wrong_bookings", _("Wrong per 1,000"), "per_mille"),
    Column("utilisation", _("Utilisation"), "percent"),
    Column("revenue", _("Revenue, ₽"), "money"),
]


def _quality(counts: Counts, online: int, minutes: int | None, refused: int = 0) -> dict[str, Any]:
    return {
        "bookings": counts.bookings,
        "online_share": ratio(online, counts.bookings),
        "visits": counts.visits,
        "no_show_rate": ratio(counts.no_shows, counts.attended + counts.no_shows),
        "cancellation_rate": ratio(counts.cancelled, counts.visits),
        "late_cancellation_rate": ratio(counts.late_cancelled, counts.visits),
        "wrong_bookings": (
            None if not counts.bookings else (counts.rollbacks + refused) * 1000 / counts.bookings
        ),
        "utilisation": ratio(counts.booked_minutes, minutes),
        "revenue": counts.revenue,
    }


def doctor_name(last: str, first: str, middle: str) -> str:
    initials = "".join(f"{part[0]}." for part in (first, middle) if part)
    return f"{last} {initials}".strip()


def _group_refused(refused: Mapping[CubeKey, int], key: Callable[[CubeKey], Any]) -> dict[Any, int]:
    grouped: dict[Any, int] = defaultdict(int)
    for cube_key, n in refused.items():
        grouped[key(cube_key)] += n
    return grouped


def build_tables(fig: Figures, *, refused: Mapping[CubeKey, int] | None = None) -> dict[str, Table]:
    """The tables of `fig`; `refused`: refused overlapping bookings per cube key, counted
    with the rollbacks in the wrong-bookings column."""
    refused = refused or {}
    refused_clinic = _group_refused(refused, lambda k: k[0])
    refused_doctor = _group_refused(refused, lambda k: (k[0], k[1]))
    sums = fig.sums
    clinic_ids = set(sums.clinics) | {k[0] for k in fig.capacity}
    doctor_ids = {k[1] for k in sums.doctors} | {k[1] for k in fig.capacity}
    service_ids = set(sums.services)
    clinic_rows_db = Clinic.objects.filter(pk__in=clinic_ids).values_list("pk", "name", "public_id")
    clinics = {pk: name for pk, name, _uuid in clinic_rows_db}
    clinic_uuids = {pk: public_id for pk, _name, public_id in clinic_rows_db}
    doctors = {
        pk: (doctor_name(last, first, middle), public_id)
        for pk, last, first, middle, public_id in Doctor.objects.filter(
            pk__in=doctor_ids
        ).values_list("pk", "last_name", "first_name", "middle_name", "public_id")
    }
    services = dict(Service.objects.filter(pk__in=service_ids).values_list("pk", "name"))

    by_clinic, online_clinic = sums.clinics, sums.online_clinics
    minutes_clinic: dict[int, int] = defaultdict(int)
    for (clinic_id, _doctor), m in fig.capacity.items():
        minutes_clinic[clinic_id] += m
    clinic_rows = [
        {
            "name": clinics.get(cid, "—"),
            "clinic_id": cid,
            "clinic_public_id": clinic_uuids.get(cid),
            **_quality(
                by_clinic.get(cid, Counts()),
                online_clinic.get(cid, 0),
                minutes_clinic[cid],
                refused_clinic[cid],
            ),
        }
        for cid in sorted(clinic_ids, key=lambda c: clinics.get(c, ""))
    ]

    by_doctor, online_doctor = sums.doctors, sums.online_doctors
    doctor_keys = set(by_doctor) | set(fig.capacity)
    doctor_rows = [
        {
            "name": doctors.get(d, ("—", None))[0],
            "clinic": clinics.get(c, "—"),
            "clinic_id": c,
            "clinic_public_id": clinic_uuids.get(c),
            "doctor_public_id": doctors.get(d, ("", None))[1],
            **_quality(
                by_doctor.get((c, d), Counts()),
                online_doctor.get((c, d), 0),
                fig.capacity.get((c, d)),
                refused_doctor[(c, d)],
            ),
        }
        for c, d in sorted(doctor_keys, key=lambda k: (doctors.get(k[1], ("",))[0], k[0]))
    ]

    by_service = sums.services
    total_revenue = sum((c.revenue for c in by_service.values()), Decimal(0))
    service_rows = [
        {
            "name": services.get(sid, "—"),
            "completed": c.completed,
            "revenue": c.revenue,
            "revenue_share": ratio(c.revenue, total_revenue),
            "average": (c.revenue / c.completed) if c.completed else None,
        }
        for sid, c in sorted(by_service.items(), key=lambda item: -item[1].revenue)
    ]

    by_channel = sums.channels
    total_bookings = sum(c.bookings for c in by_channel.values())
    channel_rows = [
        {
            "name": _channel_label(ch),
            "bookings": c.bookings,
            "booking_share": ratio(c.bookings, total_bookings),
            "completed": c.completed,
            "revenue": c.revenue,
        }
        for ch, c in sorted(by_channel.items(), key=lambda item: -item[1].bookings)
    ]

    return {
        "clinics": Table(
            "clinics", _("Clinics"), [Column("name", _("Clinic"), "text"), *QUALITY], clinic_rows
        ),
        "doctors": Table(
            "doctors",
            _("Doctors"),
            [Column("name", _("Doctor"), "text"), Column("clinic", _("Clinic"), "text"), *QUALITY],
            doctor_rows,
        ),
        "services": Table(
            "services",
            _("Revenue by service"),
            [
                Column("name", _("Service"), "text"),
                Column("completed", _("Visits completed")),
                Column("revenue", _("Revenue, ₽"), "money"),
                Column("revenue_share", _("Share of revenue"), "percent"),
                Column("average", _("Average bill, ₽"), "money"),
            ],
            service_rows,
        ),
        "channels": Table(
            "channels",
            _("Bookings and revenue by channel"),
            [
                Column("name", _("Channel"), "text"),
                Column("bookings", _("Bookings")),
                Column("booking_share", _("Share of bookings"), "percent"),
                Column("completed", _("Visits completed")),
                Column("revenue", _("Revenue, ₽"), "money"),
            ],
            channel_rows,
        ),
    }


def _channel_label(channel: str) -> str:
    try:
        return str(AppointmentChannel(channel).label)
    except ValueError:
        return channel
