"""Reading spreadsheets that nobody vouches for.

An XLSX file is a zip of XML parts. Two kinds of hostile file hurt the reader
(python-calamine, a Rust library): a cell far away (``XFD1048576``) makes it
allocate the whole rectangle up to that cell (a 512 GiB request aborts the
process, it is no Python exception), and a small zip can inflate to gigabytes
(a "decompression bomb"). So, before any parsing:

1. :func:`inspect_xlsx` streams every part of the archive with a cap on the
   bytes actually inflated (the sizes a zip declares can lie), and scans the
   worksheets for their farthest cell and row references: a sheet wider or
   longer than :data:`Limits` allows is refused with a French reason.
2. :func:`read_xlsx_isolated` then parses the workbook in a child process
   with an address-space limit and a time limit, so a crash or a memory
   blow-up that slipped through ends the child, never the server.

Both raise :class:`UnsafeSpreadsheet`, whose message is French and meant for
the person who sent the file.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 16


class UnsafeSpreadsheet(ValueError):
    """A spreadsheet refused before or while being read (the message is French)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What an uploaded diagnostic workbook may hold (a diagnostic has tens of columns, at most ~10^5 rows)."""

    max_members: int = 2_000
    max_inflated_bytes: int = 256 * 1024 * 1024  # all parts together, actually inflated
    max_ratio: int = 200  # inflated / compressed, per part above 1 MiB
    max_rows: int = 200_000
    max_columns: int = 200  # column "GR"
    max_cells: int = 5_000_000
    child_memory_bytes: int = 2 * 1024 * 1024 * 1024
    child_seconds: float = 120.0


DEFAULT_LIMITS = Limits()

_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="\$?([A-Z]{1,4})\$?(\d{1,8})"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{1,8})"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z$0-9:]{1,32})"')
_DIM_CELL = re.compile(rb"\$?([A-Z]{1,4})\$?(\d{1,8})")
_TAIL = 512  # bytes kept between chunks so that a reference cut in two is still seen


def column_number(letters: bytes | str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode("ascii"):
        n = n * 26 + (ord(ch) - 64)
    return n


def _cell_name(col: int, row: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


class _Extent:
    """The farthest row and column a worksheet refers to, and the first reference beyond the limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = 0
        self.cols = 0
        self.beyond: str | None = None

    def _at(self, col: int, row: int, ref: str) -> None:
        self.cols, self.rows = max(self.cols, col), max(self.rows, row)
        if self.beyond is None and (row > self.limits.max_rows or col > self.limits.max_columns):
            self.beyond = ref

    def see(self, chunk: bytes) -> None:
        for m in _CELL_REF.finditer(chunk):
            self._at(column_number(m.group(1)), int(m.group(2)), (m.group(1) + m.group(2)).decode("ascii"))
        for m in _ROW_REF.finditer(chunk):
            self._at(1, int(m.group(1)), f"A{int(m.group(1))}")
        for m in _DIMENSION.finditer(chunk):
            for cell in _DIM_CELL.finditer(m.group(1)):
                self._at(column_number(cell.group(1)), int(cell.group(2)), (cell.group(1) + cell.group(2)).decode("ascii"))

    def check(self, part: str) -> None:
        limits = self.limits
        if self.beyond is None and self.rows * self.cols <= limits.max_cells:
            return
        where = self.beyond or _cell_name(self.cols, self.rows)
        raise UnsafeSpreadsheet(
            f"la feuille « {part} » s'étend jusqu'à la cellule {where} : un diagnostic tient dans "
            f"{limits.max_rows} lignes et {limits.max_columns} colonnes au plus. Supprimez les cellules "
            "éloignées (ou enregistrez le fichier en CSV) puis réessayez."
        )


def inspect_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an XLSX whose parts inflate too much or whose sheets reach too far (:class:`UnsafeSpreadsheet`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeSpreadsheet("le fichier n'est pas un classeur XLSX lisible (archive zip invalide)") from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise UnsafeSpreadsheet(f"le classeur contient {len(members)} parties : trop pour un diagnostic")
        inflated = 0
        for info in members:
            if info.is_dir():
                continue
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            extent = _Extent(limits) if is_sheet else None
            part_bytes = 0
            tail = b""
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(CHUNK):
                        part_bytes += len(chunk)
                        inflated += len(chunk)
                        if inflated > limits.max_inflated_bytes:
                            raise UnsafeSpreadsheet(
                                f"le classeur se décompresse en plus de {limits.max_inflated_bytes // (1024 * 1024)} Mo : "
                                "trop pour un diagnostic (fichier corrompu ou piégé)"
                            )
                        if part_bytes > (1 << 20) and part_bytes > limits.max_ratio * max(info.compress_size, 1):
                            raise UnsafeSpreadsheet(
                                f"la partie « {info.filename} » se décompresse plus de {limits.max_ratio} fois "
                                "sa taille : fichier piégé refusé"
                            )
                        if extent is not None:
                            extent.see(tail + chunk)
                            tail = chunk[-_TAIL:]
            except UnsafeSpreadsheet:
                raise
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise UnsafeSpreadsheet(f"la partie « {info.filename} » du classeur est illisible") from exc
            if extent is not None:
                extent.check(info.filename.rsplit("/", 1)[-1])


def cell_text(value: object) -> str:
    """A cell as the text a CSV would hold (``12.0`` → ``12``, booleans as ``true``/``false``, NUL removed)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).replace("\x00", "")


def _child_main() -> None:
    """In the child process: the workbook on stdin, ``{"rows", "merged"}`` as JSON on stdout."""
    from python_calamine import CalamineWorkbook

    from symbiose.text import fold

    wanted_names = json.loads(sys.argv[1])
    book = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
    names = book.sheet_names
    wanted = next((n for n in names if fold(n) in wanted_names), names[0] if names else None)
    out: dict[str, list] = {"rows": [], "merged": []}
    if wanted is not None:
        sheet = book.get_sheet_by_name(wanted)
        out["rows"] = [[cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        out["merged"] = [[r0, c0, r1, c1] for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or ())]
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


def _limit_child(memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def read_xlsx_isolated(
    data: bytes, sheet_names: tuple[str, ...] = ("flux", "flows"), limits: Limits = DEFAULT_LIMITS
) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    """Inspect, then parse the workbook in a limited child process: ``(rows as text, merged ranges)``.

    The sheet read is the first one whose folded name is in ``sheet_names``,
    else the first sheet. Raises :class:`UnsafeSpreadsheet` when the file is
    refused, the child runs out of memory or time, or it cannot be read.
    """
    inspect_xlsx(data, limits)
    # the child imports this very module, from where the caller found it (installed or a source tree)
    here = str(Path(__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    env["PYTHONPATH"] = here
    try:
        done = subprocess.run(
            [sys.executable, "-s", "-m", "symbiose.xlsx_guard", json.dumps(list(sheet_names))],
            input=data, capture_output=True, timeout=limits.child_seconds, env=env,
            preexec_fn=(lambda: _limit_child(limits.child_memory_bytes)) if os.name == "posix" else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise UnsafeSpreadsheet(
            f"la lecture du classeur a dépassé {limits.child_seconds:.0f} s : fichier trop lourd ou piégé"
        ) from exc
    if done.returncode != 0:
        if b"MemoryError" in done.stderr or done.returncode < 0:
            raise UnsafeSpreadsheet("la lecture du classeur demande trop de mémoire : fichier trop lourd ou piégé")
        raise UnsafeSpreadsheet("le fichier ne se lit pas comme un classeur XLSX")
    try:
        out = json.loads(done.stdout)
    except ValueError as exc:
        raise UnsafeSpreadsheet("le fichier ne se lit pas comme un classeur XLSX") from exc
    return out["rows"], [tuple(m) for m in out["merged"]]


if __name__ == "__main__":
    _child_main()
