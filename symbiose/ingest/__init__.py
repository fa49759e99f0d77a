"""Reading a flow diagnostic (CSV or XLSX, ``diagnostic-format.md``).

:func:`read_diagnostic` checks the whole file and returns a
:class:`ParsedDiagnostic`: the companies and flows it describes, every
blocking row error and every warning, each with a message code and its
French text (``symbiose.explain.issues``). It never writes anything and
never raises on bad input: the service layer decides what to store.

- ``table``: the file as rows of cell texts (CSV or XLSX)
- ``headers``: which column each header names, by meaning (``headers.yaml``)
- ``cells``: one parser per kind of cell
- ``rows``: a row read in named steps, each returning its issues
- ``resources``: the resource of a row (code, correction, text, EWC code)
- ``reader``: the whole file, companies and flows
"""

from symbiose.explain.issues import issues_as_dicts
from symbiose.ingest.cells import DIRECTIONS, parse_bool, parse_ewc, parse_months, parse_naf, parse_number, parse_postcode
from symbiose.ingest.headers import REQUIRED, header_vocabulary, map_headers
from symbiose.ingest.reader import MAX_ROWS, ClassifiedText, Corrections, ParsedDiagnostic, Progress, read_diagnostic
from symbiose.ingest.resources import correction_key, correction_subject, resolve_resource, resource_for_ewc
from symbiose.ingest.rows import MAX_LENGTH, MAX_QUANTITY
from symbiose.ingest.table import read_table

__all__ = [
    "DIRECTIONS",
    "MAX_LENGTH",
    "MAX_QUANTITY",
    "MAX_ROWS",
    "REQUIRED",
    "ClassifiedText",
    "Corrections",
    "ParsedDiagnostic",
    "Progress",
    "correction_key",
    "correction_subject",
    "header_vocabulary",
    "issues_as_dicts",
    "map_headers",
    "parse_bool",
    "parse_ewc",
    "parse_months",
    "parse_naf",
    "parse_number",
    "parse_postcode",
    "read_diagnostic",
    "read_table",
    "resolve_resource",
    "resource_for_ewc",
]
