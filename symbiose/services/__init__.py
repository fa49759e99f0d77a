"""Service layer: the operations the CLI and the HTTP API share.

Each function takes plain arguments and, when it touches the database, a
:class:`~symbiose.store.UnitOfWork`; it commits only when the whole
operation succeeded.
"""

from symbiose.services.imports import ImportReport, import_diagnostic, read_file
from symbiose.services.keys import create_api_key, resolve_api_key
from symbiose.services.runs import (
    create_run,
    execute_run,
    fail_interrupted_runs,
    load_diagnostic,
    match_file,
    run_match,
)
from symbiose.services.territories import ensure_territory, get_territory, list_territories

__all__ = [
    "ImportReport",
    "create_api_key",
    "create_run",
    "ensure_territory",
    "execute_run",
    "fail_interrupted_runs",
    "get_territory",
    "import_diagnostic",
    "list_territories",
    "load_diagnostic",
    "match_file",
    "read_file",
    "resolve_api_key",
    "run_match",
]
