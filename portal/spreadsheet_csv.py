"""CSV files that people open in a spreadsheet: the one convention every table download follows
(README, "CSV downloads").

Excel in a Russian locale splits lines on `;` (its decimal separator is the comma, so the comma
cannot separate cells) and reads a file as UTF-8 only when it starts with a byte-order mark;
without one, Cyrillic comes out garbled. So: `;` between cells, a BOM, and numbers with the
decimal separator of the language the file is downloaded in (`1,5` in Russian, `1.5` in
English), which Excel in that locale reads as numbers. Layouts fixed by another system (the
accounting export, Yandex Metrica's offline conversions) keep their own rules.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.formats import get_format

BOM = "\ufeff"
DELIMITER = ";"


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_cell(value: Any, *, decimal_separator: str) -> Any:
    """A cell as written: fractional numbers with `decimal_separator`, the rest as they are."""
    if isinstance(value, float | Decimal):
        return str(value).replace(".", decimal_separator)
    return value


def spreadsheet_csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The file's text in lines: the BOM, then each row `;`-separated. The decimal separator is
    the active language's, read now (a streamed body is written after the view returns)."""
    separator = str(get_format("DECIMAL_SEPARATOR"))
    writer = csv.writer(_Echo(), delimiter=DELIMITER)

    def lines() -> Iterator[str]:
        yield BOM
        for row in rows:
            yield writer.writerow([spreadsheet_cell(v, decimal_separator=separator) for v in row])

    return lines()


def spreadsheet_csv_response(rows: Iterable[Iterable[Any]], filename: str) -> StreamingHttpResponse:
    """A download of `rows` as a spreadsheet CSV named `filename`."""
    response = StreamingHttpResponse(
        spreadsheet_csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
