"""Read template.yaml (with its short-form intrinsic tags) and resolve the
intrinsic functions the local cloud needs: Ref, GetAtt, Sub, If, Equals,
Join, Select, Split."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))  # noqa: S506 - SafeLoader subclass


@dataclass
class Resolver:
    """Resolves intrinsics against the physical ids the local cloud assigned."""

    template: dict[str, Any]
    region: str
    account_id: str
    stack_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attribute) -> value

    def __post_init__(self) -> None:
        for name, spec in self.template.get("Parameters", {}).items():
            self.parameters.setdefault(name, spec.get("Default"))

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }.get(name)

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"Ref {name} is not provisioned locally")

    def get_att(self, name: str, attribute: str) -> str:
        if (name, attribute) in self.attrs:
            return self.attrs[(name, attribute)]
        raise KeyError(f"GetAtt {name}.{attribute} is not provisioned locally")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in variables:
                return str(variables[key])
            if "." in key:
                return str(self.get_att(*key.split(".", 1)))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self._sub(text, variables)
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(str(arg[0]))
            if key == "Condition":
                return self.condition(arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def resources(self, *types: str) -> list[tuple[str, dict[str, Any]]]:
        return [(name, spec) for name, spec in self.template["Resources"].items() if spec["Type"] in types]

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' variables overlaid with the function's own, resolved."""
        merged: dict[str, Any] = dict(
            self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        spec = self.template["Resources"][logical_id]["Properties"]
        merged.update(spec.get("Environment", {}).get("Variables", {}))
        return {k: str(self.resolve(v)) for k, v in merged.items()}


def http_routes(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, function logical id) for every HttpApi event."""
    routes = []
    for name, spec in template["Resources"].items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        for event in spec["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.append((props["Method"].upper(), props["Path"], name))
    return routes


def schedules(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(function logical id, schedule expression) for every Schedule/ScheduleV2 event."""
    property_of = {"Schedule": "Schedule", "ScheduleV2": "ScheduleExpression"}
    found = []
    for name, spec in template["Resources"].items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        for event in spec["Properties"].get("Events", {}).values():
            if event["Type"] in property_of:
                found.append((name, str(event["Properties"][property_of[event["Type"]]])))
    return found


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a `rate(...)` expression; None for cron expressions."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit
