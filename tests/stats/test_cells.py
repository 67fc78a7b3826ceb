"""Spreadsheet-safe exports: safe_cell, streamed CSV, XLSX read back with openpyxl."""
import csv
import gc
import io
import types
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.stats import cells
from app.stats.cells import MAX_XLSX_ROWS, csv_stream, safe_cell, sheet_title, xlsx_bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        (" =1+1", "' =1+1"),
        ("\u3000@x", "'\u3000@x"),
        ("＝1", "'＝1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("texto normal", "texto normal"),
        ("María Núñez", "María Núñez"),
        ("a=1", "a=1"),
        ("", ""),
        ("   ", "   "),
        (None, ""),
        (True, "Sí"),
        (False, "No"),
    ],
)
def test_safe_cell_text(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    "value", [-5, 0, 3.5, Decimal("2.50"), date(2026, 3, 1), datetime(2026, 3, 1, 14, 30)]
)
def test_safe_cell_keeps_numbers_and_dates(value):
    result = safe_cell(value)
    assert result == value and type(result) is type(value)


def test_safe_cell_turns_other_objects_into_text():
    assert safe_cell(types.SimpleNamespace(a=1)) == "namespace(a=1)"

    class Formula:
        def __str__(self):
            return "=HYPERLINK(\"http://x\")"

    assert safe_cell(Formula()) == "'=HYPERLINK(\"http://x\")"


# --- CSV ---------------------------------------------------------------------------------------------------


def test_csv_has_bom_header_crlf_and_safe_cells():
    chunks = list(
        csv_stream(
            ["Nombre", "Fórmula", "Fecha", "Hora", "Número", "Sí/No", "Vacío"],
            [["María Núñez", "=1+1", date(2026, 3, 1), datetime(2026, 3, 1, 14, 30, 59), -5, True, None]],
        )
    )
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert text == (
        "\ufeffNombre,Fórmula,Fecha,Hora,Número,Sí/No,Vacío\r\n"
        "María Núñez,'=1+1,2026-03-01,2026-03-01 14:30,-5,Sí,\r\n"
    )
    assert list(csv.reader(io.StringIO(text[1:], newline=""))) == [
        ["Nombre", "Fórmula", "Fecha", "Hora", "Número", "Sí/No", "Vacío"],
        ["María Núñez", "'=1+1", "2026-03-01", "2026-03-01 14:30", "-5", "Sí", ""],
    ]


def test_csv_quotes_separators_and_newlines():
    text = "".join(csv_stream(["a"], [['dice "hola", adiós\nfin']]))
    assert text == '\ufeffa\r\n"dice ""hola"", adiós\nfin"\r\n'


def test_csv_without_header():
    assert "".join(csv_stream([], [["x"], []])) == "\ufeffx\r\n\r\n"


def test_csv_streams_lazily():
    consumed = []

    def rows():
        for n in range(10_000):
            consumed.append(n)
            yield [n, f"fila {n}"]

    stream = csv_stream(["n", "texto"], rows())
    assert isinstance(stream, types.GeneratorType)
    assert consumed == []  # nothing read before the first chunk is asked for
    first = next(stream)
    assert len(consumed) <= cells.CSV_FLUSH_ROWS + 1
    assert first.startswith("\ufeffn,texto\r\n0,fila 0\r\n")
    rest = list(stream)
    assert len(rest) >= 10_000 // cells.CSV_FLUSH_ROWS - 1
    lines = (first + "".join(rest)).split("\r\n")
    assert len(lines) == 10_000 + 2 and lines[-2] == "9999,fila 9999" and lines[-1] == ""


# --- XLSX --------------------------------------------------------------------------------------------------


def _read(data):
    return load_workbook(io.BytesIO(data))


def test_xlsx_values_types_and_header():
    data = xlsx_bytes(
        [
            (
                "Casos",
                ["Nombre", "Fórmula", "Fecha", "Hora", "Número", "Decimal", "Sí/No", "Vacío", "Error"],
                [
                    ["María Núñez", "=SUM(A1:A2)", date(2026, 3, 1), datetime(2026, 3, 1, 14, 30), -5,
                     Decimal("2.5"), False, None, "#N/A"],
                    ["@x", " =1+1", None, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), 3.5, 0, True, "", "＝1"],
                ],
            )
        ]
    )
    workbook = _read(data)
    assert workbook.sheetnames == ["Casos"]
    sheet = workbook["Casos"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Nombre", "Fórmula", "Fecha", "Hora", "Número", "Decimal", "Sí/No", "Vacío", "Error"]
    assert rows[1] == ["María Núñez", "'=SUM(A1:A2)", datetime(2026, 3, 1), datetime(2026, 3, 1, 14, 30), -5,
                       2.5, "No", None, "#N/A"]
    assert rows[2] == ["'@x", "' =1+1", None, datetime(2026, 3, 2, 8, 0), 3.5, 0, "Sí", None, "'＝1"]
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].is_date and sheet["D2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["I2"].data_type == "s"  # "#N/A" stays text, not an error cell
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_never_writes_formulas_even_unprefixed(monkeypatch):
    """Belt and braces: even if safe_cell let "=..." through, the cell is written as text."""
    monkeypatch.setattr(cells, "safe_cell", lambda value: value)
    sheet = _read(xlsx_bytes([("Hoja", ["h"], [["=1+1"], ["=HYPERLINK(\"http://x\",\"y\")"]])]))["Hoja"]
    assert [cell.data_type for row in sheet.iter_rows(min_row=2) for cell in row] == ["s", "s"]
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes([("Hoja", ["h"], [["=1+1"]])]))) as archive:
        raw = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw and 't="inlineStr"' in raw


def test_xlsx_several_sheets_and_names():
    data = xlsx_bytes(
        [
            ("Notas", [], [["Nota"], []]),
            ("Casos [2026]: oficina/consulado*?\\ con un nombre larguísimo", ["a"], [[1]]),
            ("Casos [2026]: oficina/consulado*?\\ con un nombre larguísimo", ["a"], [[2]]),
            ("", ["a"], []),
        ]
    )
    workbook = _read(data)
    names = workbook.sheetnames
    assert names[0] == "Notas"
    assert names[1] == "Casos 2026 oficinaconsulado con"
    assert names[2] == "Casos 2026 oficinaconsulado (2)"
    assert names[3] == "Hoja"
    assert all(len(name) <= 31 for name in names)
    assert [[c.value for c in row] for row in workbook["Notas"].iter_rows()] == [["Nota"]]


def test_sheet_title():
    assert sheet_title("a[b]c:d*e?f/g\\h") == "abcdefgh"
    assert sheet_title("'citado'") == "citado"
    assert len(sheet_title("x" * 50)) == 31
    used: set[str] = set()
    assert [sheet_title("Casos", used), sheet_title("casos", used), sheet_title("Casos", used)] == [
        "Casos", "casos (2)", "Casos (3)"
    ]


def test_xlsx_strips_characters_xml_cannot_hold():
    sheet = _read(xlsx_bytes([("H", ["h"], [["a\x00b\x1fc\td"]])]))["H"]
    assert sheet["A2"].value == "abc\td"


def test_xlsx_row_limit(monkeypatch):
    assert MAX_XLSX_ROWS == 1_048_575
    monkeypatch.setattr(cells, "MAX_XLSX_ROWS", 3)
    assert xlsx_bytes([("H", ["h"], [[1], [2], [3]])])
    with pytest.raises(ValueError):
        xlsx_bytes([("H", ["h"], [[1], [2], [3], [4]])])
    gc.collect()  # the half-written sheet was closed: nothing is left to complain when collected


def test_xlsx_of_a_protected_table():
    from app.stats.disclosure import protect

    table = protect("Casos por sexo", "Categoría", ["Detención", "Salud"], ["F", "M"], [[3, 10], [12, 20]])
    rows = list(table.rows())
    sheet = _read(xlsx_bytes([(table.title, rows[0], rows[1:])]))["Casos por sexo"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Categoría", "F", "M", "Total"],
        ["Detención", "<5", "*", "13"],
        ["Salud", "*", "*", "32"],
        ["Total", "15", "30", "45"],
    ]
