"""A diagnostic file as rows of cell texts: CSV (separator and encoding
detected) or XLSX (the sheet named ``flux``/``flows``, else the first)."""

from __future__ import annotations

import csv
import io

from symbiose.domain import Issue
from symbiose.explain.issues import issue
from symbiose.xlsx_guard import UnsafeSpreadsheet, read_xlsx_isolated


def is_xlsx(data: bytes, filename: str | None) -> bool:
    """True for a ZIP-based workbook (by its magic bytes or its extension)."""
    return data[:4] == b"PK\x03\x04" or bool(filename and filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")))


def read_xlsx(data: bytes) -> list[list[str]]:
    """The cells of the diagnostic's sheet, read by :mod:`symbiose.xlsx_guard` (inspected, then parsed in a
    limited child process: a hostile workbook is refused, never takes the caller down); a merged cell
    gives its value to every cell it spans."""
    rows, merged = read_xlsx_isolated(data)
    for r0, c0, r1, c1 in merged:
        if r0 < len(rows) and c0 < len(rows[r0]):
            value = rows[r0][c0]
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                rows[r].extend([""] * (c1 + 1 - len(rows[r])))
                for c in range(c0, c1 + 1):
                    rows[r][c] = value
    return rows


def decode(data: bytes) -> tuple[str, Issue | None]:
    """CSV bytes as text: UTF-8 (with or without BOM), else UTF-16 or Windows-1252 with a warning."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        return data.decode("utf-16"), issue("file.utf16")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), issue("file.cp1252")


def read_csv(text: str) -> list[list[str]]:
    """Rows of a CSV text; the separator (``;``, ``,`` or tab) is the most frequent one of the first line."""
    text = text.replace("\x00", "")
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=lambda s: (counts[s], s == ";"))
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def read_table(data: bytes, filename: str | None = None) -> tuple[list[list[str]], list[Issue]]:
    """Rows of cells as text (header first) and notes on the encoding; an unreadable file gives an error."""
    notes: list[Issue] = []
    try:
        if is_xlsx(data, filename):
            return read_xlsx(data), notes
        text, note = decode(data)
        if note:
            notes.append(note)
        return read_csv(text), notes
    except UnsafeSpreadsheet as exc:
        return [], [issue("file.refused", row=1, column="file", reason=str(exc))]
    except Exception:  # noqa: BLE001 - any unreadable file becomes an error, never a traceback
        kind = "XLSX" if is_xlsx(data, filename) else "CSV"
        return [], [issue("file.unreadable", row=1, column=None, kind=kind)]
