"""Schemathesis against the served ``/openapi.json``: generated requests, valid
and invalid, on every operation (bounded: 15 examples per operation and
mode) — never a 500, and every answer conforms to the schema (status codes,
content types, bodies, auth enforced)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.api.conftest import TERRITORY, Keys, auth, diagnostic_csv, run_to_done, upload

MAX_EXAMPLES = 15
REAL_PATH = {"code": TERRITORY, "run_id": 1, "synergy_id": "S-0001"}


def _exercise(operation, mode: GenerationMode, path: dict, base_url: str, headers: dict, failures: list) -> None:  # noqa: ANN001
    fixed = {k: v for k, v in path.items() if "{" + k + "}" in operation.path}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def run(case) -> None:  # noqa: ANN001
        case.call_and_validate(base_url=base_url, headers=headers)

    try:
        run()
    except BaseException as exc:  # noqa: BLE001 - collect every operation's failure (an exception group), report them together
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
    for operation in operations:
        for key in (keys.admin, keys.portal) if operation.method.upper() == "GET" else (keys.admin,):
            headers = auth(key)
            _exercise(operation, GenerationMode.POSITIVE, REAL_PATH, server.base_url, headers, failures)
            _exercise(operation, GenerationMode.POSITIVE, {"code": TERRITORY}, server.base_url, headers, failures)
            _exercise(operation, GenerationMode.NEGATIVE, {}, server.base_url, headers, failures)
    assert not failures, "\n\n".join(failures)
    assert ready.get("/health").status_code == 200
