"""The French XLSX diagnostic template, for integrators' tools."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CallerDep
from symbiose.report.template import template_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "diagnostic-modele.xlsx"

router = APIRouter(tags=["diagnostics"])


@router.get(
    "/diagnostic-template.xlsx", operation_id="diagnostic_template", summary="The French XLSX diagnostic template",
    response_class=Response, responses={200: {"content": {XLSX: {}}, "description": "the XLSX workbook"}},
)
def diagnostic_template(_caller: CallerDep) -> Response:
    """A ``flux`` sheet with the French headers the importer reads, drop-down lists (direction, unit, period,
    yes/no), an example row that imports as it is, and a ``notice`` sheet explaining each column."""
    return Response(template_bytes(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{FILENAME}"'})
