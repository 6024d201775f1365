"""The rows of the dashboard's tables as HTML, built in Python.

The doctors' table of a network has thousands of cells: a template filter per cell cost more
than reading the figures. Here each row is joined from escaped strings, and each distinct
value is formatted once per page (`Cells`).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from analytics.formatting import format_shown, shown
from analytics.selectors.tables import Column, Table


def cell_text(value: Any, kind: str) -> str:
    """A table cell's text; a missing share reads as a dash, not as zero."""
    if kind == "text":
        return "" if value is None else str(value)
    if value is None:
        return "—"
    return format_shown(shown(value, kind), kind)


@dataclass
class Cells:
    """The cells of one page in the active language, each distinct text formatted once."""

    done: dict[tuple[str, Any], str] = field(default_factory=dict)

    def html(self, value: Any, column: Column) -> str:
        if column.kind == "text":
            return f"<td>{escape(cell_text(value, 'text'))}</td>"
        key = (column.kind, None if value is None else shown(value, column.kind))
        cell = self.done.get(key)
        if cell is None:
            text = "—" if value is None else format_shown(key[1], column.kind)
            cell = self.done[key] = f'<td class="num">{escape(text)}</td>'
        return cell


@dataclass(frozen=True)
class Links:
    """The drill-down links of the clinics' and doctors' rows: the desk's day of the period's
    last date, for the clinics whose appointments the user may see, and the clinics' targets
    for those whose targets they may set."""

    day: datetime.date
    may_drill: Collection[int]
    may_target: Collection[int]


def _row_links(code: str, row: dict[str, Any], links: Links, desk: str) -> str:
    clinic_id, clinic = row.get("clinic_id"), row.get("clinic_public_id")
    if not clinic or code not in ("clinics", "doctors"):
        return ""
    title = _("The appointments behind these figures")
    html = ""
    if code == "clinics":
        if clinic_id in links.may_drill:
            html += format_html(
                ' <a class="drill" href="{}?clinic={}&amp;date={}" title="{}">{}</a>',
                desk,
                clinic,
                links.day.isoformat(),
                title,
                _("visits"),
            )
        if clinic_id in links.may_target:
            html += format_html(
                ' <a class="drill" href="{}">{}</a>',
                reverse("analytics:targets", args=[clinic]),
                _("targets"),
            )
    elif clinic_id in links.may_drill and row.get("doctor_public_id"):
        html += format_html(
            ' <a class="drill" href="{}?clinic={}&amp;doctor={}&amp;date={}" title="{}">{}</a>',
            desk,
            clinic,
            row["doctor_public_id"],
            links.day.isoformat(),
            title,
            _("visits"),
        )
    return html


def table_body(table: Table, *, links: Links, cells: Cells | None = None) -> SafeString:
    """The `<tr>` rows of `table`: the first column heads each row, with its links."""
    cells = cells or Cells()
    desk = reverse("scheduling:desk")
    first, *rest = table.columns
    rows = []
    for row in table.rows:
        head = escape(cell_text(row.get(first.key), first.kind))
        tail = "".join(cells.html(row.get(column.key), column) for column in rest)
        rows.append(
            f'<tr><th scope="row">{head}{_row_links(table.code, row, links, desk)}</th>{tail}</tr>'
        )
    # Every text above is escaped, and the links are built by format_html.
    return mark_safe("\n".join(rows))  # noqa: S308
