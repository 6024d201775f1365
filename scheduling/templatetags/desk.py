"""The day board's rows, written out in Python.

A busy board has a thousand visits and free times; through template nodes (a URL tag, two
time filters with zone conversions and a translation per chip) it took ten times longer to
render than to read. Here each chip is one f-string, and each row's heading (the doctor's
name, specialties, free count and hours) is written the same way. Every text value is escaped
with the standard library's `html.escape` (what `django.utils.html.escape` calls, without its
lazy-text wrapper, which cost more than the chip); labels and service names are escaped once
per board, and ids are the board's own UUIDs and slot ids.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from scheduling.selectors.day_board import BoardAppointment, BoardSlot, DoctorRow

register = template.Library()

# The placeholder id reversed once per board; each chip swaps in its own.
_ID = "00000000-0000-0000-0000-000000000000"


class _BoardText:
    """What every chip of one board shares: its URLs and its escaped labels."""

    def __init__(self, context: Any) -> None:
        patient = context.get("patient_id")
        self.book = reverse("scheduling:desk_book") + "?slot="
        self.suffix = f"&amp;patient={escape(str(patient))}" if patient else ""
        prefix, _sep, rest = reverse("scheduling:desk_appointment", args=[_ID]).partition(_ID)
        self.appointment_prefix, self.appointment_suffix = prefix, rest
        self.book_label = gettext("Book %(time)s with %(name)s")
        self.doctor_link = "?" + escape(context.get("doctor_base_query", "")) + "&amp;doctor="
        self.no_hours = escape(gettext("no hours"))
        self.can_book = context.get("can_book", False)
        self.can_open = context.get("can_open", False)
        self._escaped: dict[str, str] = {}

    def escaped(self, text: str) -> str:
        """`text` escaped, once per board: status labels and service names repeat on every
        chip (patients' names are not kept here)."""
        found = self._escaped.get(text)
        if found is None:
            found = self._escaped[text] = escape(text)
        return found


@register.simple_tag(takes_context=True)
def board_rows(context: Any, rows: list[DoctorRow]) -> SafeString:
    """The board's `<tr>`, one per doctor: the heading cell, then one cell per hour."""
    text = _BoardText(context)
    html: list[str] = []
    for row in rows:
        html.append("<tr>")
        html.append(_heading(row, text))
        _cells(row, text, html)
        html.append("</tr>")
    return mark_safe("".join(html))  # noqa: S308 - every value written is escaped


def _heading(row: DoctorRow, text: _BoardText) -> str:
    """The doctor's cell: name (narrows the board to them), specialties, the free count of
    the service shown when they offer it, and working hours."""
    free = ""
    if row.offers_service:
        count = row.free_count
        label = ngettext("%(counter)s free", "%(counter)s free", count) % {"counter": count}
        free = f" · <b>{escape(label)}</b>"
    hours = (
        ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in row.hours)
        if row.hours
        else text.no_hours
    )
    return (
        '<th scope="row" class="dk-doc">'
        f'<a href="{text.doctor_link}{row.public_id}" class="dk-doc-name">{escape(row.name)}</a>'
        f"<small>{escape(row.specialties)}{free}</small>"
        f'<small class="dk-hours">{hours}</small></th>'
    )


def _cells(row: DoctorRow, text: _BoardText, html: list[str]) -> None:
    """The `<td>` of each hour of `row`: visits link to their desk page, free times to the
    booking form (or are plain text for those who may not book)."""
    name = row.name
    for cell in row.cells:
        html.append("<td>")
        for item in cell:
            if isinstance(item, BoardSlot):
                html.append(_free(item, text, name))
            else:
                html.append(_visit(item, text))
        html.append("</td>")


def _free(slot: BoardSlot, text: _BoardText, doctor: str) -> str:
    hhmm = f"{slot.start.hour:02d}:{slot.start.minute:02d}"
    if not text.can_book:
        return f'<span class="dk-free is-static">{hhmm}</span>'
    slot_id = escape(slot.slot_id)
    aria = escape(text.book_label % {"time": hhmm, "name": doctor})
    return (
        f'<a id="s-{slot_id}" class="dk-free" href="{text.book}{slot_id}{text.suffix}" '
        f'aria-label="{aria}">{hhmm}</a>'
    )


def _visit(visit: BoardAppointment, text: _BoardText) -> str:
    """A visit's chip: the minute and the surname shown; the time, surname and status are its
    accessible name; the tooltip adds the service (chips are narrow, names get cut). Who may
    not open patients' cards gets the status instead of the name, and no link."""
    start = visit.start
    hhmm = f"{start.hour:02d}:{start.minute:02d}"
    surname = escape(visit.patient_surname)
    status = text.escaped(visit.status_label)
    public_id = str(visit.public_id)
    if not text.can_open:
        return (
            f'<span id="appt-{public_id}" class="dk-appt st-{text.escaped(visit.status)}" '
            f'title="{hhmm} · {text.escaped(visit.service_name)} · {status}">'
            f"<i>:{start.minute:02d}</i> {status}</span>"
        )
    return (
        f'<a id="appt-{public_id}" class="dk-appt st-{text.escaped(visit.status)}" '
        f'href="{text.appointment_prefix}{public_id}{text.appointment_suffix}" '
        f'title="{hhmm} {surname} · {text.escaped(visit.service_name)} · {status}" '
        f'aria-label="{hhmm} {surname} · {status}"><i>:{start.minute:02d}</i> {surname}</a>'
    )
