"""The local cloud's IAM check (`localcloud.iam`): which action and resource a
call needs, and IAM's allow/deny evaluation over a role's statements."""

from localcloud.iam import allows, requirements

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"


def _needs(service: str, operation: str, params: dict[str, object]) -> list[tuple[str, str | None]]:
    return list(requirements(service, operation, params, REGION, ACCOUNT))


def test_a_transaction_needs_each_item_s_own_action() -> None:
    items = [
        {"Put": {"TableName": "t", "Item": {}}},
        {"Update": {"TableName": "t", "Key": {}}},
        {"ConditionCheck": {"TableName": "t", "Key": {}}},
    ]
    assert _needs("dynamodb", "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]


def test_index_queries_s3_objects_and_invokes_name_their_resources() -> None:
    assert _needs("dynamodb", "Query", {"TableName": "t", "IndexName": "gsi1"}) == [
        ("dynamodb:Query", TABLE + "/index/gsi1")
    ]
    assert _needs("s3", "HeadObject", {"Bucket": "b", "Key": "kyc/1/x"}) == [("s3:GetObject", "arn:aws:s3:::b/kyc/1/x")]
    assert _needs("s3", "UploadPart", {"Bucket": "b", "Key": "exports/1/f"}) == [
        ("s3:PutObject", "arn:aws:s3:::b/exports/1/f")
    ]
    assert _needs("lambda", "Invoke", {"FunctionName": "s-reports"}) == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:s-reports")
    ]
    assert _needs("ses", "SendEmail", {"Source": "Broker <no-reply@b.com>"}) == [
        ("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no-reply@b.com")
    ]
    assert _needs("stepfunctions", "SendTaskSuccess", {"taskToken": "x"}) == [("states:SendTaskSuccess", None)]


def test_allow_matches_wildcards_and_an_explicit_deny_wins() -> None:
    role = [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/qr/*"]},
        {"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": [TABLE, TABLE + "/index/*"]},
        {"Effect": "Deny", "Action": ["dynamodb:Scan"], "Resource": ["*"]},
    ]
    assert allows(role, "s3:GetObject", "arn:aws:s3:::b/qr/7/code.png")
    assert not allows(role, "s3:GetObject", "arn:aws:s3:::b/kyc/7/passport")
    assert not allows(role, "s3:PutObject", "arn:aws:s3:::b/qr/7/code.png")
    assert allows(role, "dynamodb:Query", TABLE + "/index/gsi2")
    assert not allows(role, "dynamodb:Scan", TABLE)
    assert not allows(role, "dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other")
