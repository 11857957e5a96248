"""Least privilege: each function's role (the transformed template's IAM
policies) grants exactly the actions on exactly the resources listed here,
and nothing broad. The list is kept honest by the local cloud, which refuses
any AWS call a function's role does not allow (`localcloud.iam`), so every
component and end-to-end test exercising a function checks its list."""

import re
from typing import Any

import pytest

from localcloud.template import load_template

READ = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
PUT, UPDATE, DELETE, BATCH_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
SECRET = {"secretsmanager:GetSecretValue"}
CALLBACK = {"states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"}
START = {"states:StartExecution"}
INVOKE = {"lambda:InvokeFunction"}
SEND = {"ses:SendEmail"}
# Listing (key names, never contents) for the functions that ask whether a key exists
# (upload checks, the QR cache): without it S3 answers a missing key with 403, not 404.
LIST = {"FilesBucket": {"s3:ListBucket"}}
SENDER = {"identity/SesSender": SEND, "identity/domain(SesSender)": SEND}


def _table(*writes: str) -> dict[str, set[str]]:
    return {"DomainTable": READ | set(writes), "DomainTable/index/*": READ | set(writes)}


# function -> resource -> actions; resources rendered without the partition/region/account prefix
PERMISSIONS: dict[str, dict[str, set[str]]] = {
    "AuthFunction": {**_table(PUT, UPDATE, DELETE), **SENDER, "JwtSecret": SECRET, "CaptchaSecret": SECRET},
    "AccountsFunction": {
        **_table(PUT, UPDATE),
        "JwtSecret": SECRET,
        "Mt5Secret": SECRET,
        "key/SealingKey": {"kms:Encrypt"},
        "stateMachine:<stack>-account-opening": START,
    },
    "KycFunction": {
        **_table(PUT, UPDATE),
        "FilesBucket/kyc/*": {"s3:PutObject", "s3:GetObject"},
        **LIST,
        "JwtSecret": SECRET,
        "EVerifySecret": SECRET,
        "stateMachine:<stack>-kyc-review": START,
    },
    "ReportsFunction": {
        **_table(PUT, UPDATE),
        "FilesBucket/exports/*": {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"},
        "JwtSecret": SECRET,
        "function:<stack>-reports": INVOKE,
    },
    "ClientApiFunction": {**_table(PUT, UPDATE), "Mt5Secret": SECRET},
    "PartnerFunction": {
        **_table(PUT, UPDATE),
        "FilesBucket/qr/*": {"s3:PutObject", "s3:GetObject"},
        **LIST,
        "FilesBucket/exports/*": {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"},
        "JwtSecret": SECRET,
        "Mt5Secret": SECRET,
        "function:<stack>-reports": INVOKE,
    },
    "SettlementFunction": _table(PUT, UPDATE, DELETE),
    # UpdateItem: the IB index's counters, on the table only
    "TradeSyncFunction": {
        **_table(PUT, BATCH_WRITE),
        "DomainTable": READ | {PUT, BATCH_WRITE, UPDATE},
        "Mt5Secret": SECRET,
    },
    "ApprovalTasksFunction": {
        **_table(PUT, UPDATE),
        **SENDER,
        "Mt5Secret": SECRET,
        "PspSecret": SECRET,  # payouts through the PSP
        "key/SealingKey": {"kms:Decrypt"},
    },
    "AdminFunction": {
        **_table(PUT, UPDATE, BATCH_WRITE),
        "PspSecret": SECRET,  # staff look a PSP payout up
        **SENDER,  # and its outcome is mailed to the client
        "JwtSecret": SECRET,
        "Mt5Secret": SECRET,
        **{
            f"stateMachine:<stack>-{flow}": CALLBACK
            for flow in ("account-opening", "kyc-review", "deposit", "withdrawal", "transfer")
        },
        "FilesBucket/receipts/*": {"s3:GetObject"},
        "FilesBucket/kyc/*": {"s3:GetObject"},
        "function:<stack>-settlement": INVOKE,
    },
    "FundingFunction": {
        **_table(PUT, UPDATE, DELETE),
        "IdempotencyTable": {"dynamodb:GetItem", PUT, UPDATE, DELETE},
        "FilesBucket/receipts/*": {"s3:PutObject", "s3:GetObject"},
        **LIST,
        "JwtSecret": SECRET,
        "Mt5Secret": SECRET,
        "PspSecret": SECRET,  # the PSP's keys (online deposits)
        **SENDER,  # an online deposit credited on the PSP's callback
        **{f"stateMachine:<stack>-{flow}": START for flow in ("deposit", "withdrawal", "transfer")},
    },
}
MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
ARN_PREFIX = re.compile(r"^arn:\$\{AWS::Partition\}:[a-z0-9-]+:\$\{AWS::Region\}:\$\{AWS::AccountId\}:")


def _render(expression: Any) -> str:
    """A resource as the list spells it: logical ids for references, <stack> for the stack name."""
    if isinstance(expression, str):
        return ARN_PREFIX.sub("", expression)
    ((name, argument),) = expression.items()
    if name == "Ref":
        return str(argument)
    if name == "Fn::GetAtt" and argument[1] == "Arn":
        return str(argument[0])
    if name == "Fn::Select" and argument[0] == 1 and argument[1]["Fn::Split"][0] == "@":
        return f"domain({_render(argument[1]['Fn::Split'][1])})"
    if name == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        for key, value in variables.items():
            text = text.replace("${" + key + "}", _render(value))
        text = re.sub(r"\$\{(\w+)(\.Arn)?\}", r"\1", text.replace("${AWS::StackName}", "<stack>"))
        return _render(text)
    raise AssertionError(f"cannot render {expression}")


def _grants(cloudformation: dict[str, Any], role: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for policy in cloudformation["Resources"][role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                grants.setdefault(_render(resource), set()).update(actions)
    return grants


def _roles(cloudformation: dict[str, Any]) -> list[str]:
    return [name for name, r in cloudformation["Resources"].items() if r["Type"] == "AWS::IAM::Role"]


def test_every_function_is_listed(cloudformation: dict[str, Any]) -> None:
    functions = {n for n, r in cloudformation["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions == set(PERMISSIONS)


@pytest.mark.parametrize("function", PERMISSIONS)
def test_each_function_holds_exactly_its_permissions(cloudformation: dict[str, Any], function: str) -> None:
    role = f"{function}Role"
    assert _grants(cloudformation, role) == PERMISSIONS[function]
    assert set(cloudformation["Resources"][role]["Properties"]["ManagedPolicyArns"]) <= MANAGED


def test_no_role_can_scan_act_on_everything_or_reach_the_whole_bucket(cloudformation: dict[str, Any]) -> None:
    for role in _roles(cloudformation):
        for resource, actions in _grants(cloudformation, role).items():
            assert "dynamodb:Scan" not in actions, role
            assert not any(a.endswith("*") for a in actions), (role, actions)
            assert resource not in ("*", "FilesBucket/*"), (role, resource)
            assert resource != "FilesBucket" or actions == {"s3:ListBucket"}, (role, actions)
            if INVOKE & actions:  # a named function, not <name>* (its versions, or others sharing the prefix)
                assert not resource.endswith("*"), (role, resource)


def test_the_internet_facing_client_api_cannot_delete_or_touch_files(cloudformation: dict[str, Any]) -> None:
    granted = set().union(*_grants(cloudformation, "ClientApiFunctionRole").values())
    assert not granted & {DELETE, BATCH_WRITE, "dynamodb:Scan"}
    assert not any(a.startswith(("s3:", "lambda:", "states:", "kms:")) for a in granted)


@pytest.mark.parametrize(
    "machine", ["AccountOpeningFlow", "KycReviewFlow", "DepositFlow", "WithdrawalFlow", "TransferFlow"]
)
def test_flows_invoke_only_their_task_function(cloudformation: dict[str, Any], machine: str) -> None:
    assert _grants(cloudformation, f"{machine}Role") == {"ApprovalTasksFunction": INVOKE}


def test_concurrency_reserves_the_approval_tasks_and_caps_the_public_functions(cloudformation: dict[str, Any]) -> None:
    functions = {
        n: r["Properties"] for n, r in cloudformation["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    }
    reserved: dict[str, int] = {name: props.get("ReservedConcurrentExecutions", 0) for name, props in functions.items()}
    # every function is capped, so a flood on one cannot take the account's pool from the others
    assert all(n > 0 for n in reserved.values()), reserved
    public = _http_functions()
    assert public and all(reserved[name] <= 100 for name in public)
    # the money flows' steps keep capacity of their own, more than any public function but Auth's
    assert reserved["ApprovalTasksFunction"] >= max(reserved[n] for n in public - {"AuthFunction"})
    # the default quota is 1000 and AWS keeps 100 unreserved; leave most of it to spare
    assert sum(reserved.values()) <= 500


def _http_functions() -> set[str]:
    return {
        name
        for name, spec in load_template()["Resources"].items()
        if spec["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "HttpApi" for e in spec["Properties"].get("Events", {}).values())
    }
