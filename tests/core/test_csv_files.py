"""CSV files as people bring them (any common encoding and delimiter) and as spreadsheets open them (no formulas)."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from services.core import csv_files
from services.core.csv_files import CsvFormat, UnreadableRow

ROOT = Path(__file__).resolve().parents[2]
ROWS = [["name", "email"], ["Zoë Müller", "zoe@example.org"], ["Łukasz", "lukasz@example.org"]]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _text(rows: list[list[str]], delimiter: str = ",") -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in rows)


@pytest.mark.parametrize(("encoded", "codec"), [
    (codecs.BOM_UTF8 + _text(ROWS).encode("utf-8"), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + _text(ROWS).encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + _text(ROWS).encode("utf-16-be"), "utf-16"),
    (codecs.BOM_UTF32_LE + _text(ROWS).encode("utf-32-le"), "utf-32"),
    (_text(ROWS).encode("utf-8"), "utf-8"),
])
def test_a_byte_order_mark_or_valid_utf8_decides_the_encoding(tmp_path: Path, encoded: bytes, codec: str) -> None:
    # Given a file in a Unicode encoding, marked or (UTF-8) not
    path = _write(tmp_path / "list.csv", encoded)
    # When it is sniffed and read
    form = csv_files.sniff(path)
    # Then the encoding is the one it is in, and the rows read back whole (no mark left in the first cell)
    assert form == CsvFormat(codec, ",")
    assert list(csv_files.read_rows(path, form)) == ROWS


def test_a_file_that_is_not_utf8_is_read_as_windows_1252(tmp_path: Path) -> None:
    # Given what Excel saves on a Western European Windows: Windows-1252, with letters UTF-8 cannot decode
    rows = [["name", "email"], ["Zoë Müller – Köln", "zoe@example.org"]]
    path = _write(tmp_path / "list.csv", _text(rows).encode("cp1252"))
    # When it is sniffed and read, Then it reads as Windows-1252, every letter intact
    form = csv_files.sniff(path)
    assert form.encoding == "cp1252"
    assert list(csv_files.read_rows(path, form)) == rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_among_comma_semicolon_tab_and_pipe(tmp_path: Path, delimiter: str) -> None:
    # Given a list whose names hold the other delimiters' characters
    rows = [["name", "email", "note"], ["Smith, Anna", "anna@example.org", "a;b"],
            ["Lee", "lee@example.org", "x|y"], ["Kim", "kim@example.org", ""]]
    path = _write(tmp_path / "list.csv", "".join(
        delimiter.join(f'"{cell}"' if any(c in cell for c in ",;\t|") else cell for cell in row) + "\n"
        for row in rows).encode())
    # When it is sniffed and read, Then the delimiter is the one used, and every row has its three cells
    form = csv_files.sniff(path)
    assert form.delimiter == delimiter
    assert list(csv_files.read_rows(path, form)) == rows


@pytest.mark.parametrize("content", ["email\n", "a@example.org\nb@example.org\n", ""])
def test_a_file_with_one_column_or_one_line_is_read_with_commas(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path / "list.csv", content.encode())
    assert csv_files.sniff(path).delimiter == csv_files.FALLBACK_DELIMITER


def test_a_row_the_parser_refuses_is_reported_in_its_place_and_the_next_rows_still_read(tmp_path: Path) -> None:
    # Given a row with a cell over the csv module's size limit between two good rows
    path = _write(tmp_path / "list.csv", b"a@example.org\n" + b"x" * 200_000 + b"\nb@example.org\n")
    # When it is read
    rows = list(csv_files.read_rows(path, CsvFormat("utf-8", ",")))
    # Then that row is an UnreadableRow saying why, and the rows after it are read
    assert rows[0] == ["a@example.org"] and rows[2] == ["b@example.org"]
    assert isinstance(rows[1], UnreadableRow) and "field limit" in str(rows[1])


@pytest.mark.parametrize("cell", ["=1+2@example.com", "+31@example.org", "-x@example.org", "@SUM(A1)",
                                  "\tcmd", "\rcmd"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_after_a_quote(cell: str) -> None:
    # Given a cell that starts with a formula trigger (OWASP's list)
    out = io.StringIO()
    # When it is written as CSV
    csv_files.write_rows(out, [[cell, "plain"]])
    # Then it starts with a single quote, and the plain cell is untouched
    assert out.getvalue().lstrip('"').startswith("'" + cell[0])
    assert out.getvalue().rstrip("\r\n").endswith(",plain")


def test_what_we_write_reads_back_to_the_same_cells(tmp_path: Path) -> None:
    # Given cells with formula triggers, with quotes of their own, and plain ones
    rows = [["=1+2@example.com", "'=already@example.org", "'quoted@example.org", "''", "a@example.org", ""]]
    path = tmp_path / "out.csv"
    # When they are written and read back
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv_files.write_rows(handle, rows)
    # Then every cell is what was written
    assert list(csv_files.read_rows(path, csv_files.sniff(path))) == rows


def test_a_quote_that_is_not_our_prefix_is_kept_on_reading(tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", b"'o'brien@example.org\n")
    assert list(csv_files.read_rows(path, csv_files.sniff(path))) == [["'o'brien@example.org"]]


def test_no_module_but_csv_files_writes_csv() -> None:
    # Given every module of the project, When one makes a csv writer of its own, Then it bypasses the neutralising
    writers = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "services").rglob("*.py"))
               if "csv.writer(" in path.read_text(encoding="utf-8") or "DictWriter(" in path.read_text(encoding="utf-8")]
    assert writers == ["services/core/csv_files.py"]
