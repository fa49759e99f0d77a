"""The synergy JSON v1 (``synergy-output.md``) of a :class:`MatchResult`.

Keys come in a fixed order, numbers are rounded (quantities and tonnes to
1e-3, euros to the cent, distances to 10 m, tCO2e to the kilogram, scores to
1e-4). Fields added to the contract: per synergy ``in_plan``, ``reason``,
``tonnes_diverted``, ``route``, ``details`` and ``kind`` (``synergy``, or
``to_complete`` for a pooling group below its critical mass); at the top ``warnings`` and
``solver``. ``synergy.schema.json`` beside this module is its JSON Schema.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from symbiose.domain import Issue, MatchResult, Participant, RouteStop, Synergy

VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("synergy.schema.json")


def _plain(value: Any) -> Any:
    """JSON-ready copy of a details value (tuples → lists, NaN → null, floats rounded)."""
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
        "kind": s.kind,
    }


def _issue(i: Issue) -> dict[str, Any]:
    return {"row": i.row, "column": i.column, "value": i.value, "message": i.message}


def result_to_dict(result: MatchResult) -> dict[str, Any]:
    """The whole synergy JSON document of a matching run."""
    return {
        "version": VERSION,
        "territory": result.territory,
        "generated_at": result.generated_at,
        "summary": _plain(result.summary),
        "synergies": [synergy_to_dict(s) for s in result.synergies],
        "warnings": [_issue(i) for i in result.warnings],
        # timings vary from run to run: left out so the same input gives the same document
        "solver": _plain({k: v for k, v in result.solver.items() if not k.endswith("_seconds")}),
    }


def dumps(result: MatchResult) -> str:
    """The synergy JSON as text (UTF-8, indented, trailing newline)."""
    return json.dumps(result_to_dict(result), ensure_ascii=False, indent=2) + "\n"


def write_json(result: MatchResult, path_or_dash: str | Path) -> None:
    """Write the synergy JSON to a file, or to standard output for ``-``."""
    text = dumps(result)
    if str(path_or_dash) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    Path(path_or_dash).write_text(text, encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of the synergy JSON."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
