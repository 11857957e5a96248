"""template.yaml: cfn-lint clean, and the offline SAM transform produces the
functions, routes, tables and policies the application needs."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import ROOT, load_template, local_path


def test_cfn_lint_reports_nothing() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "template.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _of_type(cfn: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


def test_auth_function_runtime_layers_and_tracing(cloudformation: dict[str, Any]) -> None:
    function = cloudformation["Resources"]["AuthFunction"]["Properties"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert len(function["Layers"]) == 2
    variables = function["Environment"]["Variables"]
    for name in ("TABLE_NAME", "JWT_SECRET_NAME", "SES_SENDER", "POWERTOOLS_SERVICE_NAME", "CAPTCHA_PROVIDER"):
        assert name in variables


def test_every_auth_route_is_on_the_http_api(cloudformation: dict[str, Any]) -> None:
    api = _of_type(cloudformation, "AWS::ApiGatewayV2::Api")
    assert len(api) == 1
    body = next(iter(api.values()))["Properties"]["Body"]
    routes = {
        (method.upper(), path)
        for path, ops in body["paths"].items()
        for method in ops
        if method != "x-amazon-apigateway-any-method"
    }
    for route in [
        ("POST", "/auth/login"),
        ("POST", "/auth/register"),
        ("POST", "/auth/password"),
        ("POST", "/auth/email-codes"),
        ("POST", "/auth/captcha/verify"),
        ("GET", "/auth/permissions"),
        ("GET", "/auth/permissions/{portal}"),
        ("GET", "/auth/menus"),
        ("GET", "/site/branding"),
        ("PUT", "/site/branding"),
        ("GET", "/site/login-page"),
        ("PUT", "/site/login-page"),
    ]:
        assert route in routes
    cors = body["x-amazon-apigateway-cors"]
    assert "Authorization" in cors["allowHeaders"] and "Idempotency-Key" in cors["allowHeaders"]
    stage = next(iter(_of_type(cloudformation, "AWS::ApiGatewayV2::Stage").values()))["Properties"]
    assert stage["AccessLogSettings"]["DestinationArn"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def _integrated_functions(cloudformation: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(method, path) -> the logical id of the function the HTTP API invokes for it
    (the catch-all ANY routes left out)."""
    body = next(iter(_of_type(cloudformation, "AWS::ApiGatewayV2::Api").values()))["Properties"]["Body"]
    found = {}
    for path, ops in body["paths"].items():
        for method, op in ops.items():
            if method == "x-amazon-apigateway-any-method":
                continue
            uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            found[(method, path)] = uri.split("/functions/${", 1)[1].split(".Arn}", 1)[0]
    return found


def test_report_routes_follow_the_report_descriptors(cloudformation: dict[str, Any]) -> None:
    """Each report's page and export route reach the function its descriptor names,
    and the Reports function has no report route the descriptors lack."""
    from fxcrm.reports.descriptors import REPORTS

    routes = _integrated_functions(cloudformation)
    declared = {}
    for report in REPORTS.values():
        function = f"{report.function.capitalize()}Function"
        declared[("get", report.path)] = declared[("post", report.export_path)] = function
    assert {route: routes.get(route) for route in declared} == declared
    reports_routes = {route for route, function in routes.items() if function == "ReportsFunction"}
    assert reports_routes - set(declared) == {("get", "/reports/exports/{job_id}")}


def test_tables_are_retained_recoverable_and_the_idempotency_table_expires(cloudformation: dict[str, Any]) -> None:
    tables = _of_type(cloudformation, "AWS::DynamoDB::Table")
    assert set(tables) == {"DomainTable", "IdempotencyTable"}
    for table in tables.values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert tables["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }


def test_bucket_is_private_encrypted_and_expires_exports(cloudformation: dict[str, Any]) -> None:
    bucket = cloudformation["Resources"]["FilesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireExports"]["Prefix"] == "exports/" and rules["ExpireExports"]["ExpirationInDays"] > 0


def test_auth_role_is_scoped_to_its_resources(cloudformation: dict[str, Any]) -> None:
    role = cloudformation["Resources"]["AuthFunctionRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert "dynamodb:GetItem" in actions and "secretsmanager:GetSecretValue" in actions
    assert "ses:SendRawEmail" in actions
    assert not any(s.get("Resource") == "*" and "dynamodb:PutItem" in str(s["Action"]) for s in statements)


def test_outputs_give_clients_and_tests_what_they_need() -> None:
    outputs = load_template()["Outputs"]
    assert {"ApiUrl", "DomainTableName", "IdempotencyTableName", "FilesBucketName", "JwtSecretArn"} <= set(outputs)


def _statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    properties = cfn["Resources"][role]["Properties"]
    return [s for policy in properties.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


FLOWS = {
    "AccountOpeningFlow": "account-opening",
    "DepositFlow": "deposit",
    "WithdrawalFlow": "withdrawal",
    "TransferFlow": "transfer",
}


@pytest.mark.parametrize(("logical_id", "flow"), FLOWS.items())
def test_approval_flows_are_standard_named_for_their_arn_prefix_and_scoped(
    cloudformation: dict[str, Any], logical_id: str, flow: str
) -> None:
    machine = cloudformation["Resources"][logical_id]["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["StateMachineName"] == {"Fn::Sub": f"${{AWS::StackName}}-{flow}"}
    assert machine["DefinitionSubstitutions"]["ApprovalTasksFunctionArn"] == {
        "Fn::GetAtt": ["ApprovalTasksFunction", "Arn"]
    }
    # the machine may invoke its task function only
    assert _actions(_statements(cloudformation, f"{logical_id}Role")) == {"lambda:InvokeFunction"}
    # staff answer its task tokens
    callbacks = [s for s in _statements(cloudformation, "AdminFunctionRole") if "states:SendTaskSuccess" in s["Action"]]
    assert any(flow in str(s["Resource"]) for s in callbacks)
    variables = cloudformation["Resources"]["AuthFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["WORKFLOW_ARN_PREFIX"]["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-")

    uri = load_template()["Resources"][logical_id]["Properties"]["DefinitionUri"]
    definition = json.loads((ROOT / uri).read_text())
    waits = [s for s in definition["States"].values() if str(s.get("Resource", "")).endswith(".waitForTaskToken")]
    assert len(waits) == 1, "the flow waits for one staff decision"
    for wait in waits:
        assert "TimeoutSeconds" in wait or "TimeoutSecondsPath" in wait  # every wait ends
        assert {c["ErrorEquals"][0] for c in wait["Catch"]} >= {"Rejected", "States.Timeout"}
        assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"  # in the payload, never a URL
    for state in definition["States"].values():  # every task retries passing failures
        if state["Type"] == "Task":
            assert state.get("Retry"), state


def test_money_functions_hold_what_they_need_and_no_more(cloudformation: dict[str, Any]) -> None:
    accounts = _actions(_statements(cloudformation, "AccountsFunctionRole"))
    assert {"states:StartExecution", "kms:Encrypt"} <= accounts and "kms:Decrypt" not in accounts
    assert "kms:Decrypt" in _actions(_statements(cloudformation, "ApprovalTasksFunctionRole"))
    funding = _statements(cloudformation, "FundingFunctionRole")
    assert "s3:PutObject" in _actions(funding) and "states:StartExecution" in _actions(funding)
    assert "states:SendTaskSuccess" not in _actions(funding)  # only staff answer a wait
    assert any("IdempotencyTable" in json.dumps(s["Resource"]) for s in funding)


# Per function: (Timeout, MemorySize) - Globals give 15 s and 512 MB, the rest is the function's own.
SIZES = {
    "AuthFunction": (15, 512),
    "AccountsFunction": (15, 512),
    "KycFunction": (15, 512),
    "ReportsFunction": (900, 1024),
    "ClientApiFunction": (15, 512),
    "PartnerFunction": (15, 512),
    "SettlementFunction": (900, 1024),
    "TradeSyncFunction": (300, 512),
    "ApprovalTasksFunction": (60, 512),
    "AdminFunction": (15, 512),
    "FundingFunction": (30, 512),
    "MailEventsFunction": (15, 512),
    "ReconciliationFunction": (900, 512),
}


def test_every_function_gets_what_globals_give_and_keeps_its_own(cloudformation: dict[str, Any]) -> None:
    """A property moved into Globals reaches every function in the transformed
    output; one a function overrides stays its own."""
    functions = _of_type(cloudformation, "AWS::Lambda::Function")
    assert set(functions) == set(SIZES)
    layers = sorted(_of_type(cloudformation, "AWS::Lambda::LayerVersion"), key=lambda n: not n.startswith("Shared"))
    shared_variables = set(load_template()["Globals"]["Function"]["Environment"]["Variables"])
    log_groups = set(_of_type(cloudformation, "AWS::Logs::LogGroup"))
    used_groups = []
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Handler"] == "app.handler", name
        assert (local_path(props["Code"]) / props["Handler"].replace(".handler", ".py")).is_file(), name
        assert (props["Runtime"], props["Architectures"]) == ("python3.13", ["arm64"]), name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["Layers"] == [{"Ref": layer} for layer in layers], name
        assert shared_variables <= set(props["Environment"]["Variables"]), name
        assert (props["Timeout"], props["MemorySize"]) == SIZES[name], name
        assert props["LoggingConfig"]["LogFormat"] == "Text", name
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in log_groups, name
        used_groups.append(group)
    assert len(set(used_groups)) == len(used_groups), "each function logs to a group of its own"
    assert len(layers) == 2 and layers[0].startswith("SharedLayer") and layers[1].startswith("DepsLayer")


def test_the_api_gets_its_globals_and_every_event_becomes_a_route(cloudformation: dict[str, Any]) -> None:
    from localcloud.template import http_routes

    stage = next(iter(_of_type(cloudformation, "AWS::ApiGatewayV2::Stage").values()))["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]}
    assert '"route":"$context.routeKey"' in stage["AccessLogSettings"]["Format"]
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    body = cloudformation["Resources"]["HttpApi"]["Properties"]["Body"]
    cors = body["x-amazon-apigateway-cors"]
    assert cors["maxAge"] == 600 and "passkey" in cors["allowHeaders"] and "PATCH" in cors["allowMethods"]
    events = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], name)
        for name, spec in load_template()["Resources"].items()
        if spec["Type"] == "AWS::Serverless::Function"
        for event in spec["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }
    assert len(events) > 100
    assert sorted(http_routes(cloudformation)) == sorted(events)
