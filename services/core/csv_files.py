"""CSV files as people bring them and as spreadsheets open them: every CSV the project reads or writes goes here.

Reading: a list saved by Excel in a European locale is separated by ``;`` and encoded in the Windows
code page; other tools write tabs or ``|``, UTF-16 with a byte order mark, or UTF-8 with or without
one. ``sniff`` finds both the encoding and the delimiter, so such a file imports as it is.

Writing: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by spreadsheet programs; ``write_rows`` prefixes it with a single quote, as OWASP's "CSV
Injection" page advises (https://owasp.org/www-community/attacks/CSV_Injection). ``read_rows`` takes
our own prefix off again, so a file we wrote reads back to the values we wrote.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.core.errors import InvalidInput

#: Byte order marks and the codec each announces. UTF-32 LE's mark begins with UTF-16 LE's, so it comes first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
#: What a file without a byte order mark that is not valid UTF-8 is read as: Excel's "CSV" on Windows in
#: Western European locales (charset-normalizer is not a dependency; this one guess covers those files).
LEGACY_ENCODING = "cp1252"
#: The delimiters a file may use; anything else is read as commas.
DELIMITERS = ",;\t|"
FALLBACK_DELIMITER = ","
#: How much text the delimiter is guessed from.
SAMPLE_CHARS = 64 * 1024
#: First characters that make a spreadsheet evaluate a cell (OWASP), and the prefix that stops it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


@dataclass(frozen=True)
class CsvFormat:
    """How a file is to be read: a Python codec name and a one-character delimiter."""

    encoding: str
    delimiter: str


class UnreadableRow(InvalidInput):
    """A row the CSV parser cannot read (a cell over the parser's size limit); the next row still reads."""


def sniff(path: Path) -> CsvFormat:
    """The encoding and the delimiter of the CSV file at ``path``.

    Encoding: a byte order mark names it (UTF-8, UTF-16 LE/BE, UTF-32); otherwise UTF-8 if the whole
    file decodes strictly as UTF-8, else ``LEGACY_ENCODING`` (Windows-1252). Delimiter: ``csv.Sniffer``
    over the first ``SAMPLE_CHARS`` characters, restricted to ``DELIMITERS``; a file it cannot decide
    (one column, one line) is read with commas. Raises ``OSError`` when the file cannot be read.
    """
    encoding = _encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(SAMPLE_CHARS)
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only: a cut line would skew the count
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = FALLBACK_DELIMITER
    return CsvFormat(encoding, delimiter)


def _encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4)
        for mark, codec in BYTE_ORDER_MARKS:
            if head.startswith(mark):
                return codec
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: handle.read(SAMPLE_CHARS), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return LEGACY_ENCODING
    return "utf-8"


def read_rows(path: Path, form: CsvFormat) -> Iterator[list[str] | UnreadableRow]:
    """Each row of the file at ``path`` read as ``form`` says, with our formula prefix taken off each cell.

    A row the parser refuses is yielded as an ``UnreadableRow`` (saying why) in its place, and reading
    goes on. Bytes the encoding cannot decode become U+FFFD. Raises ``OSError`` when the file cannot be read.
    """
    with open(path, encoding=form.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=form.delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield UnreadableRow(f"not readable as CSV: {exc}")
                continue
            yield [restore(cell) for cell in row]


def write_rows(handle: IO[str], rows: Iterable[Iterable[str]]) -> None:
    """Write ``rows`` to ``handle`` as CSV (commas, quotes where needed), each cell ``neutralise``d."""
    writer = csv.writer(handle)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never runs it: a quote before a formula trigger (OWASP).

    A cell that already begins with the quote gets one more, so ``restore`` gives back exactly ``cell``.
    """
    return ESCAPE + cell if cell.startswith((*FORMULA_TRIGGERS, ESCAPE)) else cell


def restore(cell: str) -> str:
    """Undo ``neutralise``: drop a leading quote that stands before a formula trigger or another quote."""
    return cell[1:] if cell.startswith(ESCAPE) and cell[1:].startswith((*FORMULA_TRIGGERS, ESCAPE)) else cell
