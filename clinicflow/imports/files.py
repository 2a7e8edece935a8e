"""Reading an import file: size limits, the ZIP-bomb check, encoding detection and streaming rows.

A file is never read whole: CSV goes through ``csv.reader`` over a text stream decoded as it is read,
XLSX through openpyxl's read-only mode after its ZIP directory has been checked (declared sizes,
compression ratio, number of entries) — openpyxl never opens a bomb. Cells are returned as they are:
a formula (``=HYPERLINK(...)``) is text, never evaluated; exports escape it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

MAX_BYTES_DEFAULT = 1024 * 1024 * 1024  # 1 GiB on disk
MAX_UNPACKED_DEFAULT = 2 * 1024 * 1024 * 1024  # what an XLSX may declare once unpacked
MAX_RATIO = 200  # compressed → unpacked, per entry of more than 1 MiB
MAX_ENTRIES = 10_000
MAX_COLUMNS = 100
MAX_CELL = 4000
SNIFF_BYTES = 256 * 1024
EXTENSIONS = ("csv", "xlsx")
# non-ASCII characters that Russian text in Windows-1251 holds besides the letters
_CP1251_PUNCT = set("№«»–—…“”„‘’\u00a0°§")


class FileProblem(ValueError):
    """The file as a whole cannot be imported (too large, a bomb, unreadable, wrong encoding)."""


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", MAX_BYTES_DEFAULT))


def max_unpacked() -> int:
    return int(getattr(settings, "IMPORT_MAX_UNPACKED", MAX_UNPACKED_DEFAULT))


def check_size(size: int) -> None:
    """Refuse a file by its size alone, before a byte of it is read."""
    limit = max_bytes()
    if size > limit:
        raise FileProblem(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{size / 2**20:,.0f}", "limit": f"{limit / 2**20:,.0f}"}
        )
    if size == 0:
        raise FileProblem(_("The file is empty."))


def extension(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EXTENSIONS:
        raise FileProblem(_("Upload a .csv or .xlsx file."))
    return ext


def check_zip(path: Path) -> None:
    """Refuse an XLSX whose ZIP directory declares too much unpacked data, a suspicious compression
    ratio or too many entries — read from the directory, nothing is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem(_("This is not a readable XLSX workbook.")) from exc
    if len(entries) > MAX_ENTRIES:
        raise FileProblem(_("The workbook has too many parts (a ZIP bomb?)."))
    total = 0
    for entry in entries:
        total += entry.file_size
        big = entry.file_size > 2**20
        if big and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise FileProblem(_("The workbook unpacks to far more than its size (a ZIP bomb?)."))
    if total > max_unpacked():
        raise FileProblem(_("The workbook unpacks to more than the limit (a ZIP bomb?)."))
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        raise FileProblem(_("This is not a readable XLSX workbook."))


# --- encodings -------------------------------------------------------------------------------------------


def _decodes(sample: bytes, encoding: str) -> str | None:
    """The sample decoded strictly, allowing a character cut at the end of the sample."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        return str(decoder.decode(sample, final=False))
    except UnicodeDecodeError:
        return None


def _looks_russian(text: str) -> bool:
    high = [ch for ch in text if ord(ch) > 127]
    if not high:
        return True
    odd = sum(1 for ch in high if not ("\u0410" <= ch <= "\u044f" or ch in "Ёё" or ch in _CP1251_PUNCT))
    lower = sum(1 for ch in high if "\u0430" <= ch <= "\u044f" or ch == "ё")
    return odd <= len(high) * 0.02 and lower >= len(high) * 0.5


def _looks_chinese(text: str) -> bool:
    high = [ch for ch in text if ord(ch) > 127]
    if not high:
        return True
    common = sum(1 for ch in high if _in_gb2312(ch))  # GBK's extension holds rare characters only
    return common >= len(high) * 0.95


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean_text(text: str) -> bool:
    return _CONTROL.search(text) is None


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, Windows-1251 or GB18030; else ``FileProblem``.

    Windows-1251 decodes almost any bytes and GB18030 many, so each is accepted only when the text
    reads like its language: Russian letters (mostly lower-case, no stray symbols) for 1251, Chinese
    characters for GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise FileProblem(_("This is not a text (CSV) file."))
    text = _decodes(sample, "utf-8")
    if text is not None and _clean_text(text):
        return "utf-8"
    if text is None:
        ru = _decodes(sample, "cp1251")
        if ru is not None and _clean_text(ru) and _looks_russian(ru):
            return "cp1251"
        zh = _decodes(sample, "gb18030")
        if zh is not None and _clean_text(zh) and _looks_chinese(zh):
            return "gb18030"
    raise FileProblem(
        _("The file's encoding is not recognised: save it as UTF-8 (Windows-1251 and GB18030 also work).")
    )


# --- rows ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A stored file ready to be read: its path, kind (csv/xlsx) and, for CSV, encoding and delimiter."""

    path: Path
    ext: str
    encoding: str = ""
    delimiter: str = ","


def open_source(path: Path, ext: str) -> Source:
    """Check a stored file (size, ZIP directory or encoding) without reading it whole."""
    check_size(os.stat(path).st_size)
    if ext == "xlsx":
        check_zip(path)
        return Source(path=path, ext=ext)
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(sample)
    head = sample.decode(encoding, errors="ignore").split("\n", 1)[0]
    delimiter = max((";", ",", "\t", "|"), key=head.count)
    return Source(path=path, ext=ext, encoding=encoding, delimiter=delimiter)


def cell_text(value: Any) -> str:
    if type(value) is str:  # every CSV cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_rows(source: Source) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every row, the header included, streamed from disk."""
    if source.ext == "xlsx":
        yield from _xlsx_rows(source.path)
        return
    with source.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=source.encoding, errors="strict", newline="")
        reader = csv.reader(text, delimiter=source.delimiter)
        line = 0
        try:
            for line, cells in enumerate(reader, start=1):
                yield line, cells[:MAX_COLUMNS]
        except UnicodeDecodeError as exc:
            raise FileProblem(
                _("The file cannot be decoded after line %(line)s (mixed encodings?).") % {"line": line}
            ) from exc
        except csv.Error as exc:
            raise FileProblem(
                _("The CSV file cannot be read after line %(line)s: %(reason)s")
                % {"line": line, "reason": exc}
            ) from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell is its text ("=HYPERLINK(...)"), never a computed value
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of errors for a damaged file
        raise FileProblem(_("This is not a readable XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            yield line, list(values)
    except FileProblem:
        raise
    except Exception as exc:  # a damaged sheet fails only as its rows are read
        raise FileProblem(_("This is not a readable XLSX workbook.")) from exc
    finally:
        workbook.close()


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]


def read_table(source: Source) -> Table:
    """The header (first non-empty row) and an iterator over the data rows after it."""
    rows = iter_rows(source)
    for _line, cells in rows:
        if any(cell_text(c) for c in cells):
            headers = [cell_text(c)[:200] for c in cells]
            return Table(headers=headers, rows=rows)
    raise FileProblem(_("The file is empty: a header row is needed."))
