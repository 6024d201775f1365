"""The day board's cells, written out in Python.

A busy board has a thousand visits and free times; through template nodes (a URL tag, two
time filters with zone conversions and a translation per chip) it took ten times longer to
render than to read. Here each chip is one f-string; every text value is escaped with
`django.utils.html.escape`, and ids are the board's own UUIDs and slot ids.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from scheduling.selectors.day_board import BoardAppointment, BoardSlot, DoctorRow

register = template.Library()

# The placeholder id reversed once per board; each chip swaps in its own.
_ID = "00000000-0000-0000-0000-000000000000"


@register.simple_tag(takes_context=True)
def board_cells(context: Any, row: DoctorRow) -> SafeString:
    """The `<td>` of each hour of `row`: visits link to their desk page, free times to the
    booking form (or are plain text for those who may not book)."""
    urls = context.get("_board_urls")
    if urls is None:
        patient = context.get("patient_id")
        urls = context["_board_urls"] = (
            reverse("scheduling:desk_book") + "?slot=",
            f"&amp;patient={escape(patient)}" if patient else "",
            reverse("scheduling:desk_appointment", args=[_ID]).replace(_ID, "{}"),
            gettext("Book %(time)s with %(name)s"),
        )
    book, suffix, appointment_url, book_label = urls
    can_book = context.get("can_book", False)
    name = row.name
    html: list[str] = []
    for cell in row.cells:
        html.append("<td>")
        for item in cell:
            if isinstance(item, BoardSlot):
                html.append(_free(item, can_book, book, suffix, book_label, name))
            else:
                html.append(_visit(item, appointment_url))
        html.append("</td>")
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


def _free(slot: BoardSlot, can_book: bool, book: str, suffix: str, label: str, doctor: str) -> str:
    hhmm = slot.start.strftime("%H:%M")
    if not can_book:
        return f'<span class="dk-free is-static">{hhmm}</span>'
    slot_id = escape(slot.slot_id)
    aria = escape(label % {"time": hhmm, "name": doctor})
    return (
        f'<a id="s-{slot_id}" class="dk-free" href="{book}{slot_id}{suffix}" '
        f'aria-label="{aria}">{hhmm}</a>'
    )


def _visit(visit: BoardAppointment, url: str) -> str:
    hhmm = visit.start.strftime("%H:%M")
    surname = escape(visit.patient_surname)
    status = escape(visit.status_label)
    title = escape(f"{hhmm} {visit.patient_surname} · {visit.service_name} · {visit.status_label}")
    return (
        f'<a id="appt-{visit.public_id}" class="dk-appt st-{escape(visit.status)}" '
        f'href="{url.format(visit.public_id)}" title="{title}">'
        f'<span class="dk-t" aria-hidden="true">:{visit.start.minute:02d}</span>'
        f'<span class="visually-hidden">{hhmm}</span> {surname}'
        f'<span class="visually-hidden"> · {status}</span></a>'
    )
