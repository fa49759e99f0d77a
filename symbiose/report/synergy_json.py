"""The synergy JSON v1 (``synergy-output.md``) of a :class:`MatchResult`.

Keys come in a fixed order, numbers are rounded (quantities and tonnes to
1e-3, euros to the cent, distances to 10 m, tCO2e to the kilogram, scores to
1e-4). Fields added to the contract: per synergy ``in_plan``, ``reason``,
``tonnes_diverted``, ``route``, ``details``, ``checks``, ``minor`` and ``kind`` (``synergy``, or
``to_complete`` for a pooling group below its critical mass); at the top ``warnings`` and
``solver``. ``synergy.schema.json`` beside this module is its JSON Schema.

Written streamed, one synergy at a time (a national run has hundreds of
thousands): compact JSON by default (``indent`` for a pretty one, the same
document), NDJSON (a first line with the run — everything but ``synergies``
— then one synergy per line) or Parquet (one row per synergy, nested fields
as JSON text, the run in the file's key-value metadata under ``symbiose``;
needs ``pyarrow``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

from symbiose.domain import Issue, MatchResult, Participant, RouteStop, Synergy

VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("synergy.schema.json")


def _plain(value: Any) -> Any:
    """JSON-ready copy of a details value (tuples → lists, NaN → null, floats rounded)."""
    kind = type(value)  # the usual exact types first: isinstance against ABCs is slow at this volume
    if kind is float:
        return round(value, 6) if math.isfinite(value) else None
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _participant(p: Participant) -> dict[str, Any]:
    out: dict[str, Any] = {"company_id": p.company_id}
    if p.flow_id is not None:
        out["flow_id"] = p.flow_id
    return out


def _stop(s: RouteStop) -> dict[str, Any]:
    return {
        "company_id": s.company_id,
        "lat": round(s.lat, 6),
        "lon": round(s.lon, 6),
        "quantity": round(s.quantity, 3),
        "label": s.label,
    }


def synergy_to_dict(s: Synergy) -> dict[str, Any]:
    """One synergy as in ``synergy-output.md`` (plus the added fields)."""
    return {
        "id": s.id,
        "type": str(s.type),
        "resource": s.resource,
        "suppliers": [_participant(p) for p in s.suppliers],
        "receivers": [_participant(p) for p in s.receivers],
        "quantity": round(s.quantity, 3),
        "unit": s.unit,
        "distance_km": round(s.distance_km, 2),
        "savings_eur": round(s.savings_eur, 2),
        "co2_avoided_t": round(s.co2_avoided_t, 3),
        "score": round(s.score, 4),
        "rank": s.rank,
        "explanation": s.explanation,
        "in_plan": s.in_plan,
        "reason": s.reason,
        "tonnes_diverted": round(s.tonnes_diverted, 3),
        "route": [_stop(r) for r in s.route],
        "details": _plain(s.details),
        "checks": list(s.checks),
        "minor": s.minor,
        "kind": s.kind,
    }


def _issue(i: Issue) -> dict[str, Any]:
    return {"row": i.row, "column": i.column, "value": i.value, "message": i.message}


def _head(result: MatchResult) -> dict[str, Any]:
    return {
        "version": VERSION,
        "territory": result.territory,
        "generated_at": result.generated_at,
        "summary": _plain(result.summary),
    }


def _tail(result: MatchResult) -> dict[str, Any]:
    return {
        "warnings": [_issue(i) for i in result.warnings],
        # timings vary from run to run: left out so the same input gives the same document
        "solver": _plain({k: v for k, v in result.solver.items() if not k.endswith("_seconds")}),
    }


def run_header(result: MatchResult) -> dict[str, Any]:
    """Everything of the document but its synergies (the NDJSON first line, the Parquet metadata)."""
    return {**_head(result), **_tail(result)}


def result_to_dict(result: MatchResult) -> dict[str, Any]:
    """The whole synergy JSON document of a matching run."""
    return {**_head(result), "synergies": [synergy_to_dict(s) for s in result.synergies], **_tail(result)}


FORMATS = ("json", "ndjson", "parquet")


def _synergies(result: MatchResult, top: int | None) -> Iterable[Synergy]:
    return result.synergies if top is None else result.synergies[:top]


def iter_json(result: MatchResult, indent: int | None = None, top: int | None = None) -> Iterator[str]:
    """The synergy JSON in pieces, one synergy at a time: compact (``indent=None``) or
    indented exactly as ``json.dumps(result_to_dict(result), indent=indent)``, newline-ended."""
    if indent is None:
        def enc(v: Any) -> str:
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

        yield "{" + ",".join(f"{enc(k)}:{enc(v)}" for k, v in _head(result).items()) + ',"synergies":['
        for i, syn in enumerate(_synergies(result, top)):
            yield ("," if i else "") + enc(synergy_to_dict(syn))
        yield "]," + ",".join(f"{enc(k)}:{enc(v)}" for k, v in _tail(result).items()) + "}\n"
        return
    pad = " " * indent

    def member(k: str, v: Any) -> str:
        text = json.dumps(v, ensure_ascii=False, indent=indent).replace("\n", "\n" + pad)
        return f"{pad}{json.dumps(k)}: {text}"

    yield "{\n" + ",\n".join(member(k, v) for k, v in _head(result).items()) + ",\n"
    first = True
    for syn in _synergies(result, top):
        text = json.dumps(synergy_to_dict(syn), ensure_ascii=False, indent=indent).replace("\n", "\n" + pad * 2)
        yield (f'{pad}"synergies": [\n' if first else ",\n") + pad * 2 + text
        first = False
    yield (f'{pad}"synergies": []' if first else f"\n{pad}]") + ",\n"
    yield ",\n".join(member(k, v) for k, v in _tail(result).items()) + "\n}\n"


def iter_ndjson(result: MatchResult, top: int | None = None) -> Iterator[str]:
    """NDJSON: the run (everything but ``synergies``) on the first line, then one synergy per line."""
    def enc(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n"

    yield enc(run_header(result))
    for syn in _synergies(result, top):
        yield enc(synergy_to_dict(syn))


def dumps(result: MatchResult, indent: int | None = 2) -> str:
    """The synergy JSON as text (UTF-8, trailing newline; indented by ``indent``, compact for None)."""
    return "".join(iter_json(result, indent))


@contextmanager
def _text_out(path_or_dash: str | Path) -> Iterator[Any]:
    if str(path_or_dash) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(path_or_dash)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        yield fh


def write_result(
    result: MatchResult,
    path_or_dash: str | Path,
    fmt: str = "json",
    *,
    indent: int | None = None,
    top: int | None = None,
) -> None:
    """Write the run as ``fmt`` (``json``, ``ndjson`` or ``parquet``) to a file, or to standard
    output for ``-`` (not Parquet), streamed; ``top`` keeps the best synergies only."""
    if fmt == "parquet":
        if str(path_or_dash) == "-":
            raise ValueError("Parquet is binary: give a file, not '-'")
        write_parquet(result, Path(path_or_dash), top=top)
        return
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    pieces = iter_ndjson(result, top) if fmt == "ndjson" else iter_json(result, indent, top)
    with _text_out(path_or_dash) as fh:
        for piece in pieces:
            fh.write(piece)


def write_json(result: MatchResult, path_or_dash: str | Path, indent: int | None = 2) -> None:
    """Write the synergy JSON to a file, or to standard output for ``-``."""
    write_result(result, path_or_dash, "json", indent=indent)


_PARQUET_BATCH = 10_000
_SCALARS = ("id", "type", "resource", "quantity", "unit", "distance_km", "savings_eur", "co2_avoided_t",
            "score", "rank", "explanation", "in_plan", "reason", "tonnes_diverted")
_NESTED = ("suppliers", "receivers", "route", "details")


def write_parquet(result: MatchResult, path: Path, top: int | None = None) -> None:
    """One row per synergy (nested fields as JSON text), written in batches; the run's header
    in the file metadata (key ``symbiose``, JSON)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
        raise RuntimeError("pyarrow is needed for Parquet output") from exc
    schema = pa.schema(
        [("id", pa.string()), ("type", pa.string()), ("resource", pa.string()), ("quantity", pa.float64()),
         ("unit", pa.string()), ("distance_km", pa.float64()), ("savings_eur", pa.float64()),
         ("co2_avoided_t", pa.float64()), ("score", pa.float64()), ("rank", pa.int64()),
         ("explanation", pa.string()), ("in_plan", pa.bool_()), ("reason", pa.string()),
         ("tonnes_diverted", pa.float64())]
        + [(name, pa.string()) for name in _NESTED],
        metadata={"symbiose": json.dumps(run_header(result), ensure_ascii=False)},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}

    def flush(writer: Any) -> None:
        if columns["id"]:
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            for values in columns.values():
                values.clear()

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for syn in _synergies(result, top):
            d = synergy_to_dict(syn)
            for name in _SCALARS:
                columns[name].append(d[name])
            for name in _NESTED:
                columns[name].append(json.dumps(d[name], ensure_ascii=False, separators=(",", ":")))
            if len(columns["id"]) >= _PARQUET_BATCH:
                flush(writer)
        flush(writer)


def load_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of the synergy JSON."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
