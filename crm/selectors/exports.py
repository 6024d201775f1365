"""Offline conversions for web analytics: visits that leads' people attended, with the ids the
analytics system knows them by (Yandex Metrica imports `ClientId` or `Yclid`, one kind per file,
and matches only the last 21 days)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.utils import timezone

from crm.permissions import leads_visible_to, require_crm_user
from portal.choices import AuditAction
from portal.services.audit import audit_record
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus

MATCH_DAYS = 21
TARGET = "visit_done"
ID_COLUMNS = {"clientid": ("ym_client_id", "ClientId"), "yclid": ("yclid", "Yclid")}


def offline_conversions(*, user: RequestUser, id_kind: str = "clientid") -> Iterator[list[str]]:
    """CSV rows: the header, then one row per attended visit of a lead with that id, completed
    in the last 21 days: id, target, Unix time of completion, price, currency. Audited."""
    require_crm_user(user)
    column, header = ID_COLUMNS.get(id_kind, ID_COLUMNS["clientid"])
    since = timezone.now() - datetime.timedelta(days=MATCH_DAYS)
    rows = (
        leads_visible_to(user)
        .exclude(**{column: ""})
        .filter(
            booked_appointment__status=AppointmentStatus.COMPLETED,
            booked_appointment__completed_at__gte=since,
        )
        .values_list(column, "booked_appointment__completed_at", "booked_appointment__price")
        .order_by("booked_appointment__completed_at")
    )
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="crm.offline_conversions",
        object_id=id_kind,
    )

    # Checked and audited above, before the first row is streamed.
    def lines() -> Iterator[list[str]]:
        yield [header, "Target", "DateTime", "Price", "Currency"]
        for identifier, completed_at, price in rows.iterator():
            yield [identifier, TARGET, str(int(completed_at.timestamp())), f"{price:.2f}", "RUB"]

    return lines()
