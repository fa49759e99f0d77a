"""Import benchmark: a diagnostic of N rows read, checked and written, on SQLite and PostgreSQL.

Run ``python benchmarks/bench_import.py`` (``--rows 100000``, ``--pg
postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` to add PostgreSQL:
a private database is created and dropped). The file is the even
generator's territory as a CSV: a third of the rows give the resource as
French free text (the taxonomy label, a few spellings: classified once per
distinct text), the others as a code.

Printed and written to ``benchmarks/results/import.md``: the whole import
(``import_diagnostic``: read, check, classify, write, commit), the read and
check alone (``read_file``, the baseline measured in the same run), the
write share and the ratio import / read.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from territories import even_territory  # noqa: E402

from symbiose.services.imports import import_diagnostic, read_file  # noqa: E402
from symbiose.store import UnitOfWork, migrate  # noqa: E402
from symbiose.taxonomy import get_taxonomy  # noqa: E402

HEADER = ["company_id", "company_name", "direction", "resource", "quantity", "unit", "period", "lat", "lon"]


def diagnostic_csv(rows: int) -> bytes:
    """The even territory of ``rows`` flows as CSV bytes (a third of resources in free text)."""
    tax = get_taxonomy()
    diag = even_territory(rows, tax)
    names = {c.id: c.name for c in diag.companies}
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(HEADER)
    for i, f in enumerate(diag.flows):
        resource = f.resource
        if i % 3 == 0:
            label = tax.get(f.resource).label_fr
            resource = (label, label.lower(), label + " (reste)")[i % 9 // 3]
        w.writerow([f.company_id, names[f.company_id], "sortant" if str(f.direction) == "out" else "entrant",
                    resource, f"{f.quantity:.3f}", f.unit, "an", f"{f.lat:.6f}", f"{f.lon:.6f}"])
    return buf.getvalue().encode("utf-8")


def _pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def _drop_pg(admin_url: str, name: str) -> None:
    import psycopg

    from symbiose.store.db import get_engine

    get_engine.cache_clear() if hasattr(get_engine, "cache_clear") else None
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench(url: str, data: bytes) -> dict[str, float]:
    migrate(url)
    start = time.perf_counter()
    parsed = read_file(data, territory="bench")
    t_read = time.perf_counter() - start
    assert not parsed.errors, parsed.errors[:3]
    with UnitOfWork(url) as uow:
        start = time.perf_counter()
        report = import_diagnostic(uow, data, territory="bench", filename="bench.csv")
        t_import = time.perf_counter() - start
    assert report.written, report.errors[:3]
    return {"read": t_read, "import": t_import, "flows": report.flows, "companies": report.companies,
            "texts": len({c["text"] for c in report.classified if c["text"]})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("SYMBIOSE_BENCH_PG"), help="PostgreSQL server URL (admin database)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "import.md")
    args = ap.parse_args(argv)
    data = diagnostic_csv(args.rows)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("SQLite", bench(f"sqlite:///{tmp}/bench.db", data)))
    if args.pg:
        url, name = _pg_database(args.pg)
        try:
            results.append(("PostgreSQL", bench(url, data)))
        finally:
            from symbiose.store.db import get_engine

            get_engine(url).dispose()
            _drop_pg(args.pg, name)
    lines = [
        "# Import benchmark",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_import.py` on {platform.machine()} "
        f"({os.cpu_count()} cores shared with other work, load average {os.getloadavg()[0]:.1f}). "
        f"{args.rows:,} rows ({len(data) / 1e6:.1f} MB of CSV), a third with the resource as free text. "
        "*Import*: `import_diagnostic` (read, check, classify — once per distinct text —, write in bulk, commit), "
        "into an empty territory. *Read*: `read_file` alone, the baseline measured in the same run. Target: "
        "import ≤ 10 s.",
        "",
        "| database | flows | companies | distinct texts | import (s) | read (s) | write (s) | import / read |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results:
        lines.append(f"| {name} | {r['flows']:,} | {r['companies']:,} | {r['texts']:,} | {r['import']:.2f} | "
                     f"{r['read']:.2f} | {r['import'] - r['read']:.2f} | {r['import'] / r['read']:.2f} |")
        print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
