"""Exports: any dashboard table as CSV or XLSX, and the accounting export of completed paid
visits per legal entity (layout in the README, "Accounting export")."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef
from openpyxl import Workbook
from openpyxl.styles import Font

from analytics.selectors.scope import Scope
from analytics.selectors.tables import Table
from scheduling.choices import AppointmentStatus, PaymentStatus
from scheduling.models import Appointment, Payment


def _plain(value: Any, kind: str) -> Any:
    """A cell value for a file: shares as per cent with one decimal, money as Decimal."""
    if value is None:
        return ""
    if kind == "percent":
        return round(value * 100, 1)
    if kind == "per_mille":
        return round(value, 1)
    return value if isinstance(value, int | Decimal) else str(value)


def table_rows(table: Table) -> Iterator[list[Any]]:
    yield [f"{c.label}, %" if c.kind == "percent" else str(c.label) for c in table.columns]
    for row in table.rows:
        yield [_plain(row.get(c.key), c.kind) for c in table.columns]


def table_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = str(table.title)[:31]
    for values in table_rows(table):
        sheet.append(values)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ACCOUNTING_COLUMNS = (
    "legal_entity_inn",
    "legal_entity_kpp",
    "legal_entity",
    "clinic",
    "visit_date",
    "visit_id",
    "service_code",
    "service",
    "list_price",
    "discount",
    "amount",
    "paid_online",
)


@dataclass(frozen=True)
class PaidVisit:
    """One completed visit with a price, as the accounting exports read it (no patient data)."""

    entity_id: int
    inn: str
    kpp: str
    entity: str
    entity_full_name: str
    vat_mode: str
    clinic: str
    day: datetime.date
    public_id: str
    service_code: str
    service: str
    price: Decimal
    discount: Decimal
    paid_online: bool


def paid_visits(*, scope: Scope) -> Iterator[PaidVisit]:
    """Completed visits with a price, in the period (by the clinic-local day of the visit),
    ordered by legal entity, clinic and time, read in chunks."""
    lo = datetime.datetime.combine(scope.first, datetime.time.min, datetime.UTC)
    hi = datetime.datetime.combine(scope.last, datetime.time.min, datetime.UTC)
    paid = Payment.objects.filter(appointment=OuterRef("pk"), status=PaymentStatus.SUCCEEDED)
    qs = Appointment.objects.filter(
        status=AppointmentStatus.COMPLETED,
        price__gt=0,
        starts_at__gte=lo - datetime.timedelta(days=1),
        starts_at__lt=hi + datetime.timedelta(days=2),
    )
    if scope.clinic_ids is not None:
        qs = qs.filter(clinic_id__in=scope.clinic_ids)
    if scope.doctor_id is not None:
        qs = qs.filter(doctor_id=scope.doctor_id)
    if scope.specialty_id is not None:
        qs = qs.filter(service__specialty_id=scope.specialty_id)
    rows = (
        qs.annotate(paid_online=Exists(paid))
        .order_by("clinic__legal_entity__inn", "clinic__name", "starts_at")
        .values_list(
            "clinic__legal_entity_id",
            "clinic__legal_entity__inn",
            "clinic__legal_entity__kpp",
            "clinic__legal_entity__short_name",
            "clinic__legal_entity__name",
            "clinic__legal_entity__vat_mode",
            "clinic__name",
            "clinic__timezone",
            "starts_at",
            "public_id",
            "service__code",
            "service__name",
            "price",
            "discount",
            "paid_online",
        )
    )
    for (
        entity_id,
        inn,
        kpp,
        entity,
        full_name,
        vat_mode,
        clinic,
        tz,
        starts,
        public_id,
        code,
        service,
        price,
        discount,
        online,
    ) in rows.iterator(chunk_size=2000):
        day = starts.astimezone(ZoneInfo(tz)).date()
        if scope.first <= day <= scope.last:
            yield PaidVisit(
                entity_id=entity_id,
                inn=inn,
                kpp=kpp,
                entity=entity,
                entity_full_name=full_name,
                vat_mode=vat_mode,
                clinic=clinic,
                day=day,
                public_id=str(public_id),
                service_code=code,
                service=service,
                price=price,
                discount=discount,
                paid_online=bool(online),
            )


def accounting_rows(*, scope: Scope) -> Iterator[list[Any]]:
    """The accounting CSV: a header, then one line per completed paid visit (`paid_visits`).
    No patient data: the visit's public id is the key accounting can ask the clinic about."""
    yield list(ACCOUNTING_COLUMNS)
    for visit in paid_visits(scope=scope):
        yield [
            visit.inn,
            visit.kpp,
            visit.entity,
            visit.clinic,
            visit.day.isoformat(),
            visit.public_id,
            visit.service_code,
            visit.service,
            f"{visit.price + visit.discount:.2f}",
            f"{visit.discount:.2f}",
            f"{visit.price:.2f}",
            "1" if visit.paid_online else "0",
        ]
