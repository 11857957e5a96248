"""Create the template's resources in moto (server mode or `mock_aws`).

The resources are those of the transformed template (`localcloud.template`):
each supported CloudFormation type has one provisioner; what has no local
meaning (the bucket's TLS-only policy) is recorded as skipped.
"""

import io
import json
import secrets
import string
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from localcloud.template import Resolver, cloudformation, local_path

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "fxcrm-local"


@dataclass
class Stack:
    resolver: Resolver
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> physical name
    skipped: list[str] = field(default_factory=list)
    # SNS as the local cloud delivers it: topic ARN -> the functions subscribed
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    # SES event publishing: (configuration set, event type such as "bounce") -> topic ARNs
    mail_event_topics: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def physical(self, logical_id: str) -> str:
        return str(self.resolver.ref(logical_id))

    def environment(self) -> dict[str, str]:
        """The union of every function's environment; fails on a conflict,
        because all functions share this one process locally."""
        merged: dict[str, str] = {}
        for logical_id in self.functions:
            for key, value in self.resolver.function_environment(logical_id).items():
                if merged.setdefault(key, value) != value:
                    raise ValueError(f"functions disagree on {key}; the local cloud runs them in one process")
        return merged


def _name(logical_id: str) -> str:
    return f"{STACK_NAME}-{logical_id}"


def _generate(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "GenerateStringKey" in spec:
        document = json.loads(spec.get("SecretStringTemplate", "{}"))
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _table(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    client = session.client("dynamodb")
    name = _name(logical_id)
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    client.create_table(**kwargs)
    if props.get("TimeToLiveSpecification"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    resolver.refs[logical_id] = name
    resolver.attrs[(logical_id, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"


def _bucket(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    client = session.client("s3")
    name = _name(logical_id).lower()
    client.create_bucket(Bucket=name)
    if "PublicAccessBlockConfiguration" in props:
        client.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "BucketEncryption" in props:
        # CloudFormation says ServerSideEncryptionByDefault; the S3 API says Apply...
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "VersioningConfiguration" in props:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "CorsConfiguration" in props:
        rules = [
            {("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in rule.items()}
            for rule in props["CorsConfiguration"]["CorsRules"]
        ]
        client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    rules = []
    for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
        local: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            local["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            local["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(local)
    if rules:
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    resolver.refs[logical_id] = name
    resolver.attrs[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"


def _secret(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    value = props.get("SecretString") or _generate(props.get("GenerateSecretString", {}))
    arn = session.client("secretsmanager").create_secret(Name=_name(logical_id), SecretString=value)["ARN"]
    resolver.refs[logical_id] = arn


def _role(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    """The role as moto wants it; what it allows is enforced by `localcloud.iam`
    from the same resource, once every name it refers to exists."""
    document = resolver.resolve(props["AssumeRolePolicyDocument"])
    role = session.client("iam").create_role(RoleName=logical_id, AssumeRolePolicyDocument=json.dumps(document))
    resolver.refs[logical_id] = logical_id
    resolver.attrs[(logical_id, "Arn")] = str(role["Role"]["Arn"])


def _function(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    """Register the function with moto's Lambda so that Step Functions and
    `lambda:Invoke` reach it; `localcloud.functions` answers the invoke."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("README.txt", "answered in process by localcloud.functions")
    name = str(resolver.resolve(props["FunctionName"])) if "FunctionName" in props else _name(logical_id)
    created = session.client("lambda").create_function(
        FunctionName=name,
        Runtime=str(resolver.resolve(props["Runtime"])),
        Role=str(resolver.resolve(props["Role"])),
        Handler=str(resolver.resolve(props["Handler"])),
        Code={"ZipFile": code.getvalue()},
        Timeout=int(resolver.resolve(props.get("Timeout", 3))),
    )
    resolver.refs[logical_id] = name
    resolver.attrs[(logical_id, "Arn")] = created["FunctionArn"]


def _state_machine(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    """Create the machine from its definition file with DefinitionSubstitutions
    applied, as CloudFormation does, so moto's interpreter runs the real ASL."""
    text = local_path(props["DefinitionS3Location"]).read_text()
    for key, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + key + "}", str(value))
    name = str(resolver.resolve(props["StateMachineName"])) if "StateMachineName" in props else _name(logical_id)
    arn = session.client("stepfunctions").create_state_machine(
        name=name,
        definition=text,
        roleArn=str(resolver.resolve(props["RoleArn"])),
        type=str(props.get("StateMachineType", "STANDARD")),
    )["stateMachineArn"]
    resolver.refs[logical_id] = arn
    resolver.attrs[(logical_id, "Name")] = name
    resolver.attrs[(logical_id, "Arn")] = arn


def _kms_key(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    metadata = session.client("kms").create_key(Description=str(props.get("Description", logical_id)))["KeyMetadata"]
    resolver.refs[logical_id] = metadata["KeyId"]
    resolver.attrs[(logical_id, "Arn")] = metadata["Arn"]
    resolver.attrs[(logical_id, "KeyId")] = metadata["KeyId"]


def _sns_topic(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    arn = session.client("sns").create_topic(Name=str(props.get("TopicName") or _name(logical_id)))["TopicArn"]
    resolver.refs[logical_id] = arn
    resolver.attrs[(logical_id, "TopicArn")] = arn
    resolver.attrs[(logical_id, "TopicName")] = arn.rsplit(":", 1)[-1]


def _ses_configuration_set(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    name = str(props.get("Name") or _name(logical_id))
    session.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
    resolver.refs[logical_id] = name


def _ses_event_destination(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    """The event destination in moto (CloudFormation's SnsDestination is the API's
    SNSDestination), and which topics each event type goes to, for delivery."""
    destination = props["EventDestination"]
    api: dict[str, Any] = {
        "Name": destination.get("Name", logical_id),
        "Enabled": bool(destination.get("Enabled", True)),
        "MatchingEventTypes": list(destination["MatchingEventTypes"]),
    }
    if "SnsDestination" in destination:
        api["SNSDestination"] = {"TopicARN": destination["SnsDestination"]["TopicARN"]}
    session.client("ses").create_configuration_set_event_destination(
        ConfigurationSetName=str(props["ConfigurationSetName"]), EventDestination=api
    )
    resolver.refs[logical_id] = logical_id


def _sns_subscription(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    session.client("sns").subscribe(
        TopicArn=str(props["TopicArn"]), Protocol=str(props["Protocol"]), Endpoint=str(props["Endpoint"])
    )
    resolver.refs[logical_id] = logical_id


def _mail_routes(stack: Stack) -> None:
    """Who receives what the template says SNS and SES deliver: each topic's
    Lambda subscribers, each configuration set's topics per event type."""
    resolver = stack.resolver
    by_arn = {resolver.attrs.get((fn, "Arn")): fn for fn in stack.functions}
    for _, spec in resolver.resources("AWS::SNS::Subscription"):
        props = resolver.resolve(spec["Properties"])
        if props.get("Protocol") == "lambda" and props.get("Endpoint") in by_arn:
            stack.subscriptions.setdefault(str(props["TopicArn"]), []).append(by_arn[props["Endpoint"]])
    for _, spec in resolver.resources("AWS::SES::ConfigurationSetEventDestination"):
        props = resolver.resolve(spec["Properties"])
        destination = props["EventDestination"]
        if destination.get("Enabled", True) and "SnsDestination" in destination:
            for kind in destination["MatchingEventTypes"]:
                key = (str(props["ConfigurationSetName"]), str(kind).lower())
                stack.mail_event_topics.setdefault(key, []).append(str(destination["SnsDestination"]["TopicARN"]))


def _queue(session: boto3.Session, resolver: Resolver, logical_id: str, props: dict[str, Any]) -> None:
    """SQS queue (the on-failure destination of asynchronous invokes, which
    `localcloud.functions` sends a failed event to as Lambda would)."""
    name = _name(logical_id)
    url = session.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    resolver.refs[logical_id] = url
    resolver.attrs[(logical_id, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    resolver.attrs[(logical_id, "QueueName")] = name
    resolver.attrs[(logical_id, "QueueUrl")] = url


def _ses_identity(session: boto3.Session, resolver: Resolver) -> None:
    sender = resolver.parameters.get("SesSender")
    if sender:
        session.client("ses").verify_email_identity(EmailAddress=str(sender))


def _placeholder(kind: str) -> Callable[[boto3.Session, Resolver, str, dict[str, Any]], None]:
    def record(_: boto3.Session, resolver: Resolver, logical_id: str, __: dict[str, Any]) -> None:
        value = f"local-{kind}-{logical_id}"
        resolver.refs[logical_id] = value
        resolver.attrs[(logical_id, "Arn")] = f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{kind}/{value}"

    return record


# Resource types in the order they are created: data stores first, so that
# functions resolve their environment against real names.
PROVISIONERS: list[tuple[str, Callable[[boto3.Session, Resolver, str, dict[str, Any]], None]]] = [
    ("AWS::DynamoDB::Table", _table),
    ("AWS::S3::Bucket", _bucket),
    ("AWS::SecretsManager::Secret", _secret),
    ("AWS::KMS::Key", _kms_key),
    ("AWS::SNS::Topic", _sns_topic),
    ("AWS::SES::ConfigurationSet", _ses_configuration_set),
    ("AWS::SES::ConfigurationSetEventDestination", _ses_event_destination),
    ("AWS::SQS::Queue", _queue),
    ("AWS::Logs::LogGroup", _placeholder("loggroup")),
    ("AWS::Lambda::LayerVersion", _placeholder("layer")),  # mounted by localcloud.functions
    ("AWS::ApiGatewayV2::Api", _placeholder("httpapi")),  # served by localcloud.gateway
    ("AWS::IAM::Role", _role),
    ("AWS::Lambda::Function", _function),
    ("AWS::StepFunctions::StateMachine", _state_machine),
    ("AWS::SNS::Subscription", _sns_subscription),  # delivered by localcloud.mail_events
]
# Emulated without a resource: the gateway routes the API's requests to the
# handlers (stage, permissions) and `localcloud.cloud` runs the schedules' timers.
_EMULATED = {
    "AWS::ApiGatewayV2::Stage",
    "AWS::Lambda::Permission",
    "AWS::Scheduler::Schedule",
    "AWS::Lambda::EventInvokeConfig",  # localcloud.functions sends failed asynchronous invokes on
}
# Resolved by their provisioner, or not at all: they reference what is created later.
_RAW = {
    "AWS::Logs::LogGroup",
    "AWS::Lambda::LayerVersion",
    "AWS::ApiGatewayV2::Api",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::StepFunctions::StateMachine",
}


def provision(
    session: boto3.Session, parameters: dict[str, Any] | None = None, template: dict[str, Any] | None = None
) -> Stack:
    """Create every resource of the transformed template (template.yaml's by
    default; a SAM template is transformed first). Schedules, Lambda
    permissions and the API stage have no resource here: `localcloud.cloud`
    runs the schedules' timers and `localcloud.gateway` the routes."""
    cfn = cloudformation(template, parameters)
    resolver = Resolver(cfn, REGION, ACCOUNT_ID, STACK_NAME, dict(parameters or {}))
    stack = Stack(resolver)
    for kind, create in PROVISIONERS:
        for logical_id, spec in resolver.resources(kind):
            properties = spec.get("Properties", {})
            create(session, resolver, logical_id, properties if kind in _RAW else resolver.resolve(properties))
            if kind == "AWS::Lambda::Function":
                stack.functions[logical_id] = resolver.ref(logical_id)
    known = {kind for kind, _ in PROVISIONERS} | _EMULATED
    stack.skipped = [
        f"{name} ({spec['Type']})" for name, spec in resolver.template["Resources"].items() if spec["Type"] not in known
    ]
    _ses_identity(session, resolver)
    _mail_routes(stack)
    return stack
