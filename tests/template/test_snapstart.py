"""The SnapStart option: every function publishes a version per deploy behind
the `FunctionAlias` alias, which the API's routes and the schedules call;
`SnapStart=on` applies SnapStart to those published versions (off by default)."""

from typing import Any

import pytest

from localcloud.template import http_routes, load_template, schedules, transform_template


@pytest.fixture(scope="module")
def snapstart_on() -> dict[str, Any]:
    return transform_template(load_template(), {"SnapStart": "on"})


def _functions(cfn: dict[str, Any]) -> dict[str, Any]:
    return {n: r for n, r in cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def _apply_on(cfn: dict[str, Any], function: dict[str, Any]) -> Any:
    value = function["Properties"]["SnapStart"]["ApplyOn"]
    assert value == {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
    conditions = cfn["Conditions"]["UseSnapStart"]
    assert conditions == {"Fn::Equals": [{"Ref": "SnapStart"}, "on"]}
    return value


def test_every_function_publishes_a_version_behind_its_alias(cloudformation: dict[str, Any]) -> None:
    functions = _functions(cloudformation)
    aliases = {
        r["Properties"]["FunctionName"]["Ref"]: r
        for r in cloudformation["Resources"].values()
        if r["Type"] == "AWS::Lambda::Alias"
    }
    versions = [r for r in cloudformation["Resources"].values() if r["Type"] == "AWS::Lambda::Version"]
    assert set(aliases) == set(functions) and len(versions) == len(functions)
    assert {a["Properties"]["Name"] for a in aliases.values()} == {"live"}
    assert cloudformation["Parameters"]["SnapStart"]["Default"] == "off"
    for function in functions.values():
        _apply_on(cloudformation, function)


def test_routes_and_schedules_reach_the_functions_through_their_aliases(cloudformation: dict[str, Any]) -> None:
    body = cloudformation["Resources"]["HttpApi"]["Properties"]["Body"]
    uris = {str(op["x-amazon-apigateway-integration"]["uri"]) for ops in body["paths"].values() for op in ops.values()}
    assert uris and all("Aliaslive}" in uri for uri in uris)
    assert {fn for _, _, fn in http_routes(cloudformation)} >= {"AuthFunction", "AdminFunction", "ReportsFunction"}
    assert {fn for fn, _ in schedules(cloudformation)} == {
        "SettlementFunction",
        "TradeSyncFlow",  # a state machine: its task steps call the function by ARN
        "ReconciliationFunction",
    }


def test_snapstart_on_is_a_valid_stack(snapstart_on: dict[str, Any]) -> None:
    for function in _functions(snapstart_on).values():
        _apply_on(snapstart_on, function)
