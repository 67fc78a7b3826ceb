"""Spreadsheet-safe exports: cell values, streamed CSV and XLSX.

Every value leaving the system goes through `safe_cell`: a text that a spreadsheet would take for a formula
(it starts, possibly after blanks, with "=", "+", "-", "@", a tab or a carriage return, or a full-width or
small-form variant of "=", "+", "-", "@") is prefixed with a single quote, as the OWASP guidance on CSV
injection recommends. In XLSX files text cells are additionally written as text, never as formulas.
"""
from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

MAX_XLSX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
CSV_FLUSH_ROWS = 500
BOM = "\ufeff"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

_DANGEROUS_STARTS = frozenset("=+-@\t\r" "＝＋－＠" "﹦﹢﹣﹫")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML cannot hold


def safe_cell(value):
    """The value as it may be written to a spreadsheet: numbers and dates unchanged, anything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, int | float | Decimal | date):  # datetime is a date
        return value
    text = str(value)
    if text and (text[0] in _DANGEROUS_STARTS or text.lstrip()[:1] in _DANGEROUS_STARTS):
        return "'" + text
    return text


def _csv_value(value):
    value = safe_cell(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_stream(header: list[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """CSV text in chunks (BOM first, CRLF line ends), holding at most CSV_FLUSH_ROWS rows at a time.

    An empty header writes no header line.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    if header:
        writer.writerow([_csv_value(h) for h in header])
    pending = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        pending += 1
        if pending >= CSV_FLUSH_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
            pending = 0
    if buffer.tell():
        yield buffer.getvalue()


def sheet_title(name: str, used: set[str] | None = None) -> str:
    """A valid worksheet title: no []:*?/\\ characters, no quote at either end, 31 characters at most, unique."""
    title = _SHEET_NAME_FORBIDDEN.sub("", str(name)).strip().strip("'").strip()[:31].strip() or "Hoja"
    if used is not None:
        base, number = title, 2
        while title.casefold() in used:
            suffix = f" ({number})"
            title = base[: 31 - len(suffix)].rstrip() + suffix
            number += 1
        used.add(title.casefold())
    return title


def _xlsx_cell(sheet, value, font=None):
    value = safe_cell(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones: keep the wall-clock time as given
    if isinstance(value, str):
        value = _XLSX_ILLEGAL.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula (nor an error code such as "#N/A"), whatever the text
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    if font is not None:
        cell.font = font
    return cell


def xlsx_bytes(sheets: list[tuple[str, list[str], Iterable[Sequence]]]) -> bytes:
    """An XLSX workbook, one sheet per (name, header, rows); the header in bold (no header row if empty).

    Raises ValueError when a sheet has more than MAX_XLSX_ROWS rows.
    """
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    try:
        for name, header, rows in sheets:
            sheet = workbook.create_sheet(title=sheet_title(name, used))
            if header:
                sheet.append([_xlsx_cell(sheet, h, bold) for h in header])
            for count, row in enumerate(rows, start=1):
                if count > MAX_XLSX_ROWS:
                    raise ValueError(f"sheet {name!r} has more than {MAX_XLSX_ROWS} rows")
                sheet.append([_xlsx_cell(sheet, v) for v in row])
        if not used:
            workbook.create_sheet(title="Hoja")  # a workbook needs at least one sheet
        output = io.BytesIO()
        workbook.save(output)
    except BaseException:
        _discard(workbook)
        raise
    return output.getvalue()


def _discard(workbook) -> None:
    """Close the half-written sheets of a failed export and remove their temporary files."""
    for sheet in workbook.worksheets:
        with contextlib.suppress(Exception):
            if not sheet.closed:
                sheet.close()
        with contextlib.suppress(Exception):
            sheet._writer.cleanup()
