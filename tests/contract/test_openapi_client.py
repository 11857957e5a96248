"""A client generator accepts the combined OpenAPI document as it is published:
openapi-python-client (pinned in requirements-dev.txt) generates a client with
no warning and no error, and the client's functions are named after short,
stable operation ids."""

import importlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from localcloud.openapi import combined_openapi


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return combined_openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_short_unique_camel_case(openapi: dict[str, Any]) -> None:
    ids = Counter(op["operationId"] for _, _, op in operations(openapi))
    assert [name for name, count in ids.items() if count > 1] == []
    assert [name for name in ids if not re.fullmatch(r"[a-z][a-zA-Z0-9]{1,40}", name)] == []
    by_route = {(method, path): op["operationId"] for method, path, op in operations(openapi)}
    # named after the route function, never after the path (FastAPI's default)
    assert by_route[("post", "/auth/login")] == "login"
    assert by_route[("post", "/funding/withdrawals")] == "createWithdrawal"
    assert by_route[("get", "/reports/history-orders")] == "historyOrderReport"
    assert by_route[("post", "/trading-accounts/password")] == "changeTradingPassword"


def test_one_schema_per_model_and_servers_and_examples(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert [name for name in schemas if name.endswith(("-Input", "-Output"))] == []
    assert "enum" not in schemas["Branding"]["properties"]["timezone"]  # ~600 names, some clashing
    assert openapi["servers"][0]["url"].startswith("http://127.0.0.1:")
    assert any("amazonaws.com" in server["url"] for server in openapi["servers"])
    for method, path in (
        ("post", "/auth/login"),
        ("post", "/auth/register"),
        ("post", "/trading-accounts"),
        ("post", "/trading-accounts/applications"),
        ("post", "/funding/deposits"),
        ("post", "/funding/withdrawals"),
        ("post", "/funding/transfers"),
    ):
        ref = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[1]].get("examples"), (method, path)


def test_the_examples_are_valid_requests() -> None:
    from fxcrm.auth.schemas import ChangePasswordRequest, LoginRequest, RegisterRequest, SendEmailCodeRequest
    from fxcrm.funding.schemas import DepositDraftRequest, TransferRequest, WithdrawalRequest
    from fxcrm.trading.schemas import LiveApplicationRequest, OpenAccountRequest

    models: list[Any] = [
        ChangePasswordRequest,
        LoginRequest,
        RegisterRequest,
        SendEmailCodeRequest,
        DepositDraftRequest,
        TransferRequest,
        WithdrawalRequest,
        LiveApplicationRequest,
        OpenAccountRequest,
    ]
    for model in models:
        for example in model.model_json_schema()["examples"]:
            model.model_validate(example)


def test_openapi_python_client_generates_a_client_without_warnings(openapi: dict[str, Any], tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi))
    tools = Path(sys.executable).parent  # the generator's post-hooks run ruff from PATH
    command = [str(tools / "openapi-python-client"), "generate", "--path", str(document)]
    result = subprocess.run(
        [*command, "--output-path", str(tmp_path / "fxcrm_client"), "--meta", "none"],
        env=os.environ | {"PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"warning|error|skipping", output, re.I), output
    # the generated package works: one module per operation, named by its id
    sys.path.insert(0, str(tmp_path))
    try:
        login = importlib.import_module("fxcrm_client.api.auth.login")
        withdrawal = importlib.import_module("fxcrm_client.api.funding.create_withdrawal")
        client = importlib.import_module("fxcrm_client").Client(base_url=openapi["servers"][0]["url"])
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "fxcrm_client" or m.startswith("fxcrm_client.")]:
            del sys.modules[name]
    assert callable(login.sync_detailed) and callable(withdrawal.sync_detailed)
    assert client is not None
