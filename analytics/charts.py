"""Server-side SVG charts: no JavaScript, no CDN. Each chart has a <title> and <desc> for
screen readers and a <title> per mark (the browser shows it on hover)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.utils.formats import date_format, number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.selectors.facts import Counts
from portal.formatting import month_day_label

WEEKDAYS = (
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
)


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every piece below is escaped by format_html
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        'preserveAspectRatio="xMinYMin meet">'
        + str(format_html("<title>{}</title><desc>{}</desc>", title, desc))
        + "".join(body)
        + "</svg>"
    )


def daily_bookings(
    series: dict[datetime.date, Counts],
    online: dict[datetime.date, int],
    days: Sequence[datetime.date],
) -> SafeString:
    """Bars of bookings made per day, the online part darker."""
    width, height, left, bottom = 720, 200, 36, 22
    peak = max([series[d].bookings for d in days if d in series] or [0]) or 1
    step = (width - left) / max(len(days), 1)
    bar = max(step * 0.75, 1.0)
    body: list[str] = []
    for n in (0, peak // 2, peak):
        y = height - bottom - (height - bottom - 8) * n / peak
        body.append(
            str(
                format_html(
                    '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                    '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                    left,
                    width,
                    round(y, 1),
                    round(y, 1),
                    left - 4,
                    round(y + 4, 1),
                    n,
                )
            )
        )
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        counts = series.get(day, Counts())
        own = online.get(day, 0)
        x = left + i * step
        full = (height - bottom - 8) * counts.bookings / peak
        part = (height - bottom - 8) * own / peak
        tip = _("%(day)s: %(total)d bookings, %(online)d online") % {
            "day": date_format(day, "SHORT_DATE_FORMAT"),
            "total": counts.bookings,
            "online": own,
        }
        body.append(
            str(
                format_html(
                    '<g><title>{}</title><rect class="bar" x="{}" y="{}" width="{}" height="{}"/>'
                    '<rect class="bar-online" x="{}" y="{}" width="{}" height="{}"/></g>',
                    tip,
                    round(x, 1),
                    round(height - bottom - full, 1),
                    round(bar, 1),
                    round(full, 1),
                    round(x, 1),
                    round(height - bottom - part, 1),
                    round(bar, 1),
                    round(part, 1),
                )
            )
        )
        if i % label_every == 0:
            body.append(
                str(
                    format_html(
                        '<text class="axis" x="{}" y="{}">{}</text>',
                        round(x, 1),
                        height - 6,
                        month_day_label(day),
                    )
                )
            )
    total = sum(series[d].bookings for d in days if d in series)
    desc = _("%(total)d bookings over %(days)d days; the darker part was made online.") % {
        "total": total,
        "days": len(days),
    }
    return _svg(width, height, _("Bookings per day"), desc, body)


def heatmap(cells: list[list[int]]) -> SafeString:
    """Visits by local weekday (rows) and hour (columns), 07:00–21:00 and any busy hour."""
    hours = [h for h in range(24) if 7 <= h <= 21 or any(cells[d][h] for d in range(7))]
    cell, left, top = 30, 40, 22
    width, height = left + cell * len(hours), top + cell * 7
    peak = max(max(row) for row in cells) or 1
    body: list[str] = []
    for j, h in enumerate(hours):
        body.append(
            str(
                format_html(
                    '<text class="axis" x="{}" y="14" text-anchor="middle">{}</text>',
                    left + j * cell + cell // 2,
                    f"{h:02d}",
                )
            )
        )
    for d in range(7):
        body.append(
            str(
                format_html(
                    '<text class="axis" x="0" y="{}">{}</text>',
                    top + d * cell + cell // 2 + 4,
                    WEEKDAYS[d],
                )
            )
        )
        for j, h in enumerate(hours):
            n = cells[d][h]
            level = 0 if not n else 1 + round(4 * n / peak)
            tip = _("%(day)s %(hour)02d:00 — %(n)d visits") % {
                "day": WEEKDAYS[d],
                "hour": h,
                "n": n,
            }
            body.append(
                str(
                    format_html(
                        '<rect class="heat heat-{}" x="{}" y="{}" width="{}" height="{}" rx="3">'
                        "<title>{}</title></rect>",
                        min(level, 5),
                        left + j * cell + 1,
                        top + d * cell + 1,
                        cell - 2,
                        cell - 2,
                        tip,
                    )
                )
            )
    busiest = max(((cells[d][h], d, h) for d in range(7) for h in range(24)), default=(0, 0, 0))
    desc = (
        _("The busiest hour is %(day)s %(hour)02d:00 with %(n)d visits.")
        % {"day": WEEKDAYS[busiest[1]], "hour": busiest[2], "n": busiest[0]}
        if busiest[0]
        else _("No visits in this period.")
    )
    return _svg(width, height, _("Peak demand by weekday and hour"), desc, body)


def bars(items: Sequence[tuple[str, float]], *, title: str, unit: str = "") -> SafeString:
    """Horizontal bars, one per item, with the value written at the end."""
    row, left, width = 26, 190, 720
    height = max(row * len(items), row)
    peak = max([v for _label, v in items] or [0]) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        length = (width - left - 90) * value / peak
        # The active language's grouping: "1,234,567 ₽" in English, "1 234 567 ₽" in Russian.
        shown = number_format(round(value), 0, force_grouping=True)
        shown = f"{shown}\u00a0{unit}" if unit else shown
        body.append(
            str(
                format_html(
                    '<g><title>{}: {}</title><text class="axis" x="0" y="{}">{}</text>'
                    '<rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="2"/>'
                    '<text class="value" x="{}" y="{}">{}</text></g>',
                    label,
                    shown,
                    i * row + 17,
                    label[:28],
                    left,
                    i * row + 5,
                    round(max(length, 1), 1),
                    row - 10,
                    round(left + length + 6, 1),
                    i * row + 17,
                    shown,
                )
            )
        )
    return _svg(width, height, title, escape(title), body)
