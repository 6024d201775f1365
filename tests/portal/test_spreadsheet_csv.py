"""The spreadsheet CSV convention: a BOM, `;` between cells, the language's decimal separator."""

import csv
import io
from decimal import Decimal

from django.utils import translation

from portal.spreadsheet_csv import spreadsheet_csv_lines, spreadsheet_csv_response

ROWS = [
    ["Клиника", "Доля, %", "Выручка"],
    ["Центр; север", 12.5, Decimal("3300.00")],
    ["", 7, None],
]


def test_russian_files_use_decimal_commas_and_semicolons():
    with translation.override("ru"):
        text = "".join(spreadsheet_csv_lines(ROWS))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    # A `;` inside a value is quoted; whole numbers stay as they are.
    assert rows == [ROWS[0], ["Центр; север", "12,5", "3300,00"], ["", "7", ""]]


def test_english_files_keep_decimal_points():
    with translation.override("en"):
        lines = spreadsheet_csv_lines(ROWS)
    # The separator is the one active when the file was asked for, not when it is written.
    with translation.override("ru"):
        text = "".join(lines)
    assert '\r\n"Центр; север";12.5;3300.00\r\n' in text


def test_the_response_is_a_utf8_download():
    with translation.override("ru"):
        response = spreadsheet_csv_response(ROWS, "clinics.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="clinics.csv"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and b"12,5" in body
