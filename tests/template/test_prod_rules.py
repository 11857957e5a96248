"""What a `Stage=prod` stack refuses (template.yaml's Rules): CloudFormation
evaluates the assertions before it creates or changes anything, so the tests
evaluate the transformed template's Rules the same way for given parameters,
and check what is kept when a stack is deleted."""

import re
import shlex
import tomllib
from typing import Any

import pytest

from localcloud.template import ROOT, load_template

# Every local stand-in a parameter can select, with a real provider's value.
STAND_INS = {
    "CaptchaProvider": ("local", "tencent"),
    "EVerifyProvider": ("local", "sumsub"),
    "TradingPlatform": ("simulated", "mt5webapi"),
    "PaymentProvider": ("local", "nowpayments"),
}
# What an operator fills into samconfig.toml's prod placeholders.
FILLED = {
    "CaptchaAppId": "2087654321",
    "AllowedOrigin": "https://portal.acme-fx.com",
    "PortalUrl": "https://portal.acme-fx.com",
    "SesSender": "no-reply@acme-fx.com",
}


def _evaluate(expression: Any, parameters: dict[str, str]) -> Any:
    """The rule functions the template uses, as CloudFormation evaluates them (strings)."""
    if isinstance(expression, str | int | float):
        return str(expression)
    if isinstance(expression, list):
        return [_evaluate(e, parameters) for e in expression]
    ((name, argument),) = expression.items()
    if name == "Ref":
        return parameters[argument]
    values = _evaluate(argument, parameters)
    if name == "Fn::Equals":
        return values[0] == values[1]
    if name == "Fn::Not":
        return not values[0]
    if name == "Fn::And":
        return all(values)
    if name == "Fn::Or":
        return any(values)
    if name == "Fn::Contains":
        return values[1] in values[0]
    raise AssertionError(f"the evaluator does not know {name}")


def _parameters(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """The stack's parameters as CloudFormation validates them: defaults, then given
    values, each within its AllowedValues and AllowedPattern."""
    specs = template["Parameters"]
    values = {name: str(spec.get("Default", "")) for name, spec in specs.items()} | given
    for name, value in values.items():
        spec = specs[name]
        assert value in map(str, spec.get("AllowedValues", [value])), f"{name}={value} is not allowed"
        assert re.fullmatch(spec.get("AllowedPattern", ".*"), value), f"{name}={value} does not match"
    return values


def _refusals(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    """The AssertDescription of every failing assertion (empty: the stack may deploy)."""
    parameters = _parameters(template, given)
    failed = []
    for rule in template["Rules"].values():
        if "RuleCondition" in rule and not _evaluate(rule["RuleCondition"], parameters):
            continue
        failed += [a["AssertDescription"] for a in rule["Assertions"] if not _evaluate(a["Assert"], parameters)]
    return failed


def _samconfig(env: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in shlex.split(overrides))


REAL = {"Stage": "prod", **{name: real for name, (_, real) in STAND_INS.items()}, **FILLED}


def test_the_transform_keeps_the_rules(cloudformation: dict[str, Any]) -> None:
    assert cloudformation["Rules"] == load_template()["Rules"]


def test_prod_with_real_providers_deploys(cloudformation: dict[str, Any]) -> None:
    assert _refusals(cloudformation, REAL) == []


def test_dev_with_every_stand_in_deploys(cloudformation: dict[str, Any]) -> None:
    assert _refusals(cloudformation, {}) == []  # the defaults: dev and every stand-in
    assert _refusals(cloudformation, _samconfig("dev")) == []
    assert _refusals(cloudformation, _samconfig("default")) == []


@pytest.mark.parametrize("parameter", STAND_INS)
def test_prod_with_a_stand_in_is_refused(cloudformation: dict[str, Any], parameter: str) -> None:
    stand_in, _ = STAND_INS[parameter]
    refused = _refusals(cloudformation, REAL | {parameter: stand_in})
    assert len(refused) == 1 and parameter in refused[0], refused


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("AllowedOrigin", "*"),
        ("CaptchaAppId", "0"),
        ("AllowedOrigin", "https://portal.broker.example.com"),
        ("PortalUrl", "https://portal.broker.example.com"),
        ("SesSender", "no-reply@broker.example.com"),
    ],
)
def test_prod_with_a_dev_setting_is_refused(cloudformation: dict[str, Any], parameter: str, value: str) -> None:
    refused = _refusals(cloudformation, REAL | {parameter: value})
    assert len(refused) == 1 and parameter in refused[0], refused


@pytest.mark.parametrize(
    ("parameter", "value"), [("CaptchaAppId", "00"), ("CaptchaAppId", "0.0"), ("AllowedOrigin", "*.x")]
)
def test_look_alikes_of_refused_values_are_not_valid_parameters(
    cloudformation: dict[str, Any], parameter: str, value: str
) -> None:
    with pytest.raises(AssertionError, match="does not match"):
        _parameters(cloudformation, REAL | {parameter: value})


def test_samconfig_prod_selects_real_providers_and_waits_for_its_placeholders(cloudformation: dict[str, Any]) -> None:
    prod = _samconfig("prod")
    assert prod["Stage"] == "prod"
    assert {name: prod[name] for name in STAND_INS} == {name: real for name, (_, real) in STAND_INS.items()}
    # as shipped, only the placeholders stop it; filled in, it deploys
    refused = _refusals(cloudformation, prod)
    assert sorted(name for name in FILLED if any(name in r for r in refused)) == sorted(FILLED)
    assert len(refused) == len(FILLED)
    assert _refusals(cloudformation, prod | FILLED) == []


@pytest.mark.parametrize("kind", ["AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::Logs::LogGroup"])
def test_secrets_the_key_and_logs_outlive_the_stack(cloudformation: dict[str, Any], kind: str) -> None:
    resources = {name: r for name, r in cloudformation["Resources"].items() if r["Type"] == kind}
    assert resources
    for name, resource in resources.items():
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name
