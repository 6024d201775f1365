"""Reading an uploaded export into a header and rows of cells, whatever its encoding.

Legacy Russian systems export CSV in Windows-1251 as often as in UTF-8, with ";" between
columns; spreadsheets come as XLSX. Cells stay strings, dates or numbers here; normalising
them is `rows.py`'s job.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from crm.errors import ImportFileInvalid

Cell = str | int | float | datetime.date | datetime.datetime | None

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]


def detect_format(name: str) -> str:
    """The format by the file name's extension; anything else is refused."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        raise ImportFileInvalid(_("Upload a CSV or XLSX file."))
    return extension


def read_table(data: bytes, file_format: str) -> Table:
    """The header row and the data rows (blank rows dropped); raises ImportFileInvalid with a
    sentence saying what is wrong with the file."""
    if not data:
        raise ImportFileInvalid(_("The file is empty."))
    if len(data) > settings.CRM_IMPORT_MAX_BYTES:
        raise ImportFileInvalid(
            _("The file is larger than %(limit)d MB: split it into several files.")
            % {"limit": settings.CRM_IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    rows = _xlsx_rows(data) if file_format == "xlsx" else _csv_rows(data)
    rows = [row for row in rows if any(_present(cell) for cell in row)]
    if not rows:
        raise ImportFileInvalid(_("The file is empty."))
    headers = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    if not any(headers):
        raise ImportFileInvalid(_("The first row must name the columns."))
    data_rows = [_pad(row, len(headers)) for row in rows[1:]]
    if not data_rows:
        raise ImportFileInvalid(_("The file has a header but no rows of data."))
    if len(data_rows) > settings.CRM_IMPORT_MAX_ROWS:
        raise ImportFileInvalid(
            _("The file has more than %(limit)d rows: split it into several files.")
            % {"limit": settings.CRM_IMPORT_MAX_ROWS}
        )
    return Table(headers=headers, rows=data_rows)


def _present(cell: Cell) -> bool:
    return cell is not None and str(cell).strip() != ""


def _pad(row: Sequence[Cell], width: int) -> list[Cell]:
    cells = list(row[:width])
    return cells + [None] * (width - len(cells))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1251 when the bytes read as
    plausible text in it; anything else is refused rather than imported as mojibake."""
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileInvalid(_("This is not a text file: save the table as CSV or XLSX."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportFileInvalid(_("The file's encoding is not recognised.")) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise ImportFileInvalid(
            _("The file's encoding is not recognised: save it as UTF-8 or Windows-1251.")
        ) from exc
    if _plausible_share(text) < 0.97:
        raise ImportFileInvalid(
            _("The file's encoding is not recognised: save it as UTF-8 or Windows-1251.")
        )
    return text


def _plausible_share(text: str) -> float:
    """The share of characters a table of names, dates and phones is made of."""
    sample = text[:20000]
    good = sum(1 for ch in sample if ch.isalnum() or ch.isspace() or ch in ",.;:-+()/@\"'№_")
    return good / len(sample) if sample else 1.0


def _csv_rows(data: bytes) -> list[list[Cell]]:
    text = decode_text(data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
        if sample.count(";") > sample.count(","):
            dialect = _Semicolon
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise ImportFileInvalid(_("The file is not a valid CSV table.")) from exc


class _Semicolon(csv.excel):
    delimiter = ";"


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileInvalid(_("The file is not a valid XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        rows: list[list[Cell]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_xlsx_cell(value) for value in values])
            if len(rows) > settings.CRM_IMPORT_MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    if isinstance(value, float) and value.is_integer():
        # Phones and document numbers typed into a spreadsheet become floats.
        return int(value)
    if value is None or isinstance(value, str | int | float | datetime.date):
        return value
    return str(value)
