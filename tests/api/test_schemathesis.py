"""Schemathesis against the served ``/openapi.json``: generated requests, valid
and invalid, on every operation (bounded: 4 to 12 examples per operation,
mode and key, derandomised) — never a 500, and every answer conforms to the
schema (status codes, content types, bodies, auth enforced)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from symbiose.services.keys import issue_api_key
from symbiose.store import UnitOfWork
from tests.api.conftest import TERRITORY, Keys, auth, diagnostic_csv, run_to_done, upload

REAL_PATH = {"code": TERRITORY, "run_id": 1, "synergy_id": "S-0001"}
# Operations whose answer depends on content the schema cannot express (a file that
# is a valid upload but not a valid diagnostic, a company that is not a party of the
# synergy, a follow-up move the state forbids): a schema-valid request may get a
# 409 or 422 there, so "valid data is accepted" is not checked for them.
SEMANTIC = {"upload_diagnostic", "record_synergy_consent", "update_synergy_followup", "create_correction",
            "upload_prediagnostic", "confirm_visit"}  # a firm list that is not valid; a flow id that names no probable flow


def _exercise(operation, mode: GenerationMode, path: dict, examples: int, base_url: str, headers: dict,
              failures: list) -> None:  # noqa: ANN001
    fixed = {k: v for k, v in path.items() if "{" + k + "}" in operation.path}
    excluded = [positive_data_acceptance] if operation.definition.raw.get("operationId") in SEMANTIC else []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def run(case) -> None:  # noqa: ANN001
        case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=excluded)

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (e.g. /health has no input)
        pass
    except BaseException as exc:  # noqa: BLE001 - collect every operation's failure (an exception group)
        if isinstance(exc, KeyboardInterrupt):
            raise
        failures.append(f"{mode.value} {operation.method.upper()} {operation.path}: {str(exc)[:1500]}")


@pytest.fixture
def ready(client: httpx.Client, keys: Keys) -> httpx.Client:
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    return client


def test_generated_requests_conform_and_never_fail(ready: httpx.Client, server, keys: Keys) -> None:  # noqa: ANN001
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    admin, portal = auth(keys.admin), auth(keys.portal)
    with UnitOfWork(server.app.state.database_url) as uow:  # the only key a generated DELETE may revoke
        REAL_PATH["key_id"] = issue_api_key(uow, TERRITORY, "portal", "sacrifiée au fuzzing")[0]
    for op in operations:
        _exercise(op, GenerationMode.POSITIVE, REAL_PATH, 12, server.base_url, admin, failures)
        _exercise(op, GenerationMode.NEGATIVE, {}, 8, server.base_url, admin, failures)
        if "{run_id}" in op.path or "{synergy_id}" in op.path:  # ids that name nothing
            _exercise(op, GenerationMode.POSITIVE, {"code": TERRITORY}, 4, server.base_url, admin, failures)
        if op.method.upper() == "GET":  # the anonymising views
            _exercise(op, GenerationMode.POSITIVE, REAL_PATH, 5, server.base_url, portal, failures)
    assert not failures, "\n\n".join(failures)
    assert ready.get("/health").status_code == 200
