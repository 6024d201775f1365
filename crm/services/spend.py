"""Ad spend: entered by hand or imported from a CSV of an ad account's report.

Invariants: an import is all or nothing (one bad line refuses the file, naming the line); amounts
are roubles, not negative; periods run forwards and at most a year.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crm.errors import LeadInvalid
from crm.models import AdSpend
from portal.choices import AuditAction
from portal.models import Clinic, User
from portal.services.audit import audit_record
from portal.types import Actor

MAX_DAYS = 366
MAX_ROWS = 5000
MAX_AMOUNT = Decimal("9999999999.99")
CSV_COLUMNS = ("date_from", "date_to", "utm_source", "utm_campaign", "amount")
# Spreadsheets in Russian locales save CSV with semicolons.
csv.register_dialect("excel-semicolon", delimiter=";")


def _checked(
    *,
    utm_source: str,
    utm_campaign: str,
    date_from: datetime.date,
    date_to: datetime.date,
    amount: Decimal,
) -> tuple[str, str]:
    utm_source, utm_campaign = utm_source.strip(), utm_campaign.strip()
    if not utm_source or len(utm_source) > 100 or len(utm_campaign) > 150:
        raise LeadInvalid(_("Name the source (up to 100 characters)."), field="utm_source")
    if date_to < date_from or (date_to - date_from).days >= MAX_DAYS:
        raise LeadInvalid(
            _("The period must run forwards and last at most a year."), field="date_to"
        )
    if amount < 0 or amount > MAX_AMOUNT:
        raise LeadInvalid(_("Enter the amount in roubles, not negative."), field="amount")
    return utm_source, utm_campaign


@transaction.atomic
def ad_spend_add(
    *,
    utm_source: str,
    date_from: datetime.date,
    date_to: datetime.date,
    amount: Decimal,
    actor: Actor,
    utm_campaign: str = "",
    clinic: Clinic | None = None,
) -> AdSpend:
    """Record money spent on a source (and campaign) over a period."""
    utm_source, utm_campaign = _checked(
        utm_source=utm_source,
        utm_campaign=utm_campaign,
        date_from=date_from,
        date_to=date_to,
        amount=amount,
    )
    entry = AdSpend.objects.create(
        clinic=clinic,
        utm_source=utm_source,
        utm_campaign=utm_campaign,
        date_from=date_from,
        date_to=date_to,
        amount=amount,
        created_by=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="crm.adspend",
        object_id=entry.pk,
        changed_fields=["utm_source", "utm_campaign", "date_from", "date_to", "amount"],
        clinic=clinic,
    )
    return entry


def _parse_line(number: int, line: dict[str, str]) -> dict[str, Any]:
    try:
        return {
            "date_from": datetime.date.fromisoformat((line.get("date_from") or "").strip()),
            "date_to": datetime.date.fromisoformat((line.get("date_to") or "").strip()),
            "utm_source": line.get("utm_source") or "",
            "utm_campaign": line.get("utm_campaign") or "",
            "amount": Decimal(
                (line.get("amount") or "").strip().replace(",", ".").replace(" ", "")
            ),
        }
    except (ValueError, InvalidOperation) as exc:
        raise LeadInvalid(
            _("Line %(line)d: dates are YYYY-MM-DD and the amount a number.") % {"line": number}
        ) from exc


@transaction.atomic
def ad_spend_import_csv(*, data: bytes, actor: Actor, clinic: Clinic | None = None) -> int:
    """Import spend lines (`date_from,date_to,utm_source,utm_campaign,amount`, a header line
    first, comma or semicolon separated, UTF-8); how many were recorded."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LeadInvalid(_("Save the file as UTF-8 CSV.")) from exc
    dialect = "excel" if text.count(",") >= text.count(";") else "excel-semicolon"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if reader.fieldnames is None or not set(CSV_COLUMNS) <= {f.strip() for f in reader.fieldnames}:
        raise LeadInvalid(
            _("The first line must name the columns: %(columns)s.")
            % {"columns": ", ".join(CSV_COLUMNS)}
        )
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    count = 0
    for number, line in enumerate(reader, start=2):
        if count >= MAX_ROWS:
            raise LeadInvalid(_("At most %(max)d lines at once.") % {"max": MAX_ROWS})
        values = _parse_line(number, line)
        try:
            ad_spend_add(actor=actor, clinic=clinic, **values)
        except LeadInvalid as exc:
            raise LeadInvalid(
                _("Line %(line)d: %(problem)s") % {"line": number, "problem": exc.message}
            ) from exc
        count += 1
    if count == 0:
        raise LeadInvalid(_("The file has no lines to import."))
    return count
