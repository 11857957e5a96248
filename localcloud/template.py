"""Read template.yaml (with its short-form intrinsic tags), transform it
offline with aws-sam-translator as CloudFormation would, and resolve the
intrinsic functions of the output for the local parameters: Ref, GetAtt,
Sub, If, Equals, Not, And, Or, Join, Select, Split.

The local cloud builds every resource from the transformed output (plain
CloudFormation: Lambda functions with Globals merged in, IAM roles with the
SAM policy templates expanded, the HTTP API's OpenAPI body, schedules), so
the template may use whatever SAM supports."""

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
# `sam package` replaces local paths with S3 locations before the transform; the
# local cloud does the same with this bucket and keeps the path as the key.
LOCAL_ARTIFACTS = "localcloud-artifacts"
_PACKAGED = {"CodeUri", "ContentUri", "DefinitionUri"}


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
    """The template as written (SAM, before the transform)."""
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))  # noqa: S506 - SafeLoader subclass


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    packaged = copy.deepcopy(template)
    sections = [r.get("Properties", {}) for r in packaged.get("Resources", {}).values()]
    for props in sections + list(packaged.get("Globals", {}).values()):
        for key in _PACKAGED & set(props):
            if isinstance(props[key], str):
                props[key] = f"s3://{LOCAL_ARTIFACTS}/{props[key]}"
    return packaged


def transform_template(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The SAM template as CloudFormation sees it, transformed offline (no AWS
    call: managed policy names are not looked up) for the given parameters
    (SAM writes some parameter values into its output, e.g. the API's CORS
    origins; the rest stay Refs). Raises samtranslator's
    InvalidDocumentException for an invalid template."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # The region only fills pseudo-parameter defaults; the output keeps Refs to them.
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="us-east-1"))
    try:
        values = dict(parameters or {})
        return dict(translator.translate(_packaged(template), values, get_managed_policy_map=dict))
    finally:
        translator.metrics.publish()  # to its offline dummy publisher (else it warns at exit)


@functools.cache
def _transformed_file(path: Path, text: str) -> dict[str, Any]:
    return transform_template(load_template(path))


def cloudformation(template: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The transformed template: template.yaml's by default, a SAM template's
    transform, or the template itself when it is already transformed."""
    if template is None and not parameters:
        return copy.deepcopy(_transformed_file(TEMPLATE_PATH, TEMPLATE_PATH.read_text()))
    template = load_template() if template is None else template
    return transform_template(template, parameters) if "Transform" in template else template


def local_path(location: dict[str, Any]) -> Path:
    """The local directory or file behind a transformed Code, Content or
    DefinitionS3Location."""
    bucket = location.get("S3Bucket", location.get("Bucket"))
    key = location.get("S3Key", location.get("Key"))
    if bucket != LOCAL_ARTIFACTS or not isinstance(key, str):
        raise ValueError(f"not a local artifact: {location}")
    return ROOT / key


_NO_VALUE = object()  # Ref AWS::NoValue: the property is left out


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
            return [v for v in (self.resolve(v) for v in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
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
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(arg))
            if key == "Fn::Or":
                return any(self.resolve(arg))
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(str(arg[0]))
            if key == "Condition":
                return self.condition(arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def resources(self, *types: str) -> list[tuple[str, dict[str, Any]]]:
        """The resources of these types that exist: as CloudFormation, none whose Condition is false."""
        return [
            (name, spec)
            for name, spec in self.template["Resources"].items()
            if spec["Type"] in types and ("Condition" not in spec or self.condition(spec["Condition"]))
        ]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.template["Resources"][logical_id].get("Properties", {}))

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's variables (Globals' already merged in by the transform), resolved."""
        variables = self.properties(logical_id).get("Environment", {}).get("Variables", {})
        return {k: str(v) for k, v in self.resolve(variables).items()}

    def role_of(self, logical_id: str) -> str:
        """The logical id of the IAM role a function or state machine runs as."""
        props = self.properties(logical_id)
        role = props.get("Role", props.get("RoleArn"))
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ValueError(f"{logical_id} does not run as a role of this template")
        target = role["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])

    def layer_paths(self, logical_id: str) -> list[Path]:
        """The local directories of a function's layers of this template."""
        found = []
        for layer in self.properties(logical_id).get("Layers", []):
            if isinstance(layer, dict) and set(layer) == {"Ref"} and layer["Ref"] in self.template["Resources"]:
                found.append(local_path(self.properties(layer["Ref"])["Content"]))
        return found


# A route integrates with a function (`${Fn.Arn}`) or, with AutoPublishAlias, its
# alias (`${FnAlias<name>}`, SAM's logical id for it): both name the function.
_FUNCTION_IN_URI = re.compile(r"\$\{(\w+)\.Arn\}|\$\{(\w+?)Alias\w+\}")
_ALIAS_ID = re.compile(r"(\w+?)Alias\w+")


def http_routes(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, function logical id) of every route of the HTTP APIs'
    OpenAPI bodies in the transformed template (a SAM template is transformed)."""
    routes = []
    cfn = cloudformation(template)
    for spec in cfn["Resources"].values():
        if spec["Type"] != "AWS::ApiGatewayV2::Api":
            continue
        for path, operations in spec["Properties"].get("Body", {}).get("paths", {}).items():
            for method, operation in operations.items():
                uri = operation.get("x-amazon-apigateway-integration", {}).get("uri", {})
                found = _FUNCTION_IN_URI.search(str(uri.get("Fn::Sub", "")) if isinstance(uri, dict) else "")
                if found:
                    verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                    routes.append((verb, path, found.group(1) or found.group(2)))
    return routes


def _target_function(target: dict[str, Any]) -> str | None:
    """The logical id a schedule targets: a function (its Arn) or a state machine (its Ref)."""
    arn = target.get("Arn", {})
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    if isinstance(arn, dict) and (alias := _ALIAS_ID.fullmatch(str(arn.get("Ref", "")))):
        return alias.group(1)  # the function's alias (AutoPublishAlias)
    if isinstance(arn, dict) and "Ref" in arn:
        return str(arn["Ref"])
    return None


def schedules(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(function or state machine logical id, schedule expression) of every
    EventBridge Scheduler schedule or scheduled rule that targets one of the template's."""
    found = []
    for spec in cloudformation(template)["Resources"].values():
        props = spec.get("Properties", {})
        if spec["Type"] == "AWS::Scheduler::Schedule":
            targets = [props.get("Target", {})]
        elif spec["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in props:
            targets = props.get("Targets", [])
        else:
            continue
        for target in targets:
            function = _target_function(target)
            if function is not None:
                found.append((function, str(props["ScheduleExpression"])))
    return found


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a `rate(...)` expression; None for cron expressions."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit
