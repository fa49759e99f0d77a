"""Uploading a flow diagnostic (CSV or XLSX) into a territory."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile

from api.deps import TerritoryDep, UowDep, WriterDep, actor
from api.problems import ProblemException, responses
from api.schemas import ImportReportOut
from symbiose.services.imports import import_diagnostic

router = APIRouter(prefix="/territories/{code}/diagnostics", tags=["diagnostics"])
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def _filename(name: str | None) -> str | None:
    if not name:
        return None
    clean = _UNSAFE.sub("", name.encode("utf-8", "replace").decode("utf-8")).strip()
    return clean[-200:] or None


def read_upload(request: Request, file: UploadFile) -> tuple[bytes, str | None]:
    """An uploaded file's bytes (413 past the upload limit) and its cleaned name (every upload route)."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ProblemException(413, f"Le fichier dépasse la taille autorisée ({limit} octets).", kind="file-too-large")
    return data, _filename(file.filename)


@router.post(
    "", operation_id="upload_diagnostic", summary="Import a diagnostic (CSV or XLSX)", status_code=201,
    response_model=ImportReportOut,
    responses=responses(400, 403, 413),
)
def upload(
    request: Request,
    territory: TerritoryDep,
    caller: WriterDep,
    uow: UowDep,
    file: Annotated[UploadFile, File(description="the diagnostic, CSV (UTF-8, `,` or `;`) or XLSX (diagnostic-format.md)")],
    dry_run: Annotated[bool, Query(description="check only, write nothing")] = False,
) -> dict:
    """Import a diagnostic: 201 with the import report, or 422 with every row error and nothing written."""
    data, filename = read_upload(request, file)
    report = import_diagnostic(
        uow, data, territory=territory.code, filename=filename, dry_run=dry_run,
        actor=actor(caller), create_territory=False, single_territory=caller.role != "admin",
    )
    body = report.to_dict()
    if report.errors:
        raise ProblemException(
            422, f"Le diagnostic est refusé : {len(report.errors)} erreur(s) bloquante(s) ; rien n'a été écrit.",
            kind="diagnostic-rejected", errors=body["errors"], extra={"report": body},
        )
    return body
