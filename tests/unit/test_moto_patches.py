"""The emulator's moto patches run only on the moto they were written for, and
read the arguments of what they wrap by name."""

from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud import moto_patches
from localcloud.moto_patches import MOTO_VERSION, MotoVersionError, check_moto_version, make_dynamodb_atomic


def test_the_installed_moto_is_the_one_the_patches_were_written_for() -> None:
    check_moto_version()  # requirements-dev.txt pins MOTO_VERSION


def test_another_moto_is_refused_naming_both_versions() -> None:
    with pytest.raises(MotoVersionError) as refused:
        check_moto_version("5.3.0")
    assert f"written for moto {MOTO_VERSION}, found moto 5.3.0" in str(refused.value)


def test_patching_refuses_before_it_touches_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    put_item, query = DynamoDBBackend.put_item, Table.query
    monkeypatch.setattr(moto_patches, "MOTO_VERSION", "0.0.1")
    with pytest.raises(MotoVersionError, match=r"written for moto 0\.0\.1, found moto 5\."):
        make_dynamodb_atomic()
    assert (DynamoDBBackend.put_item, Table.query) == (put_item, query)


def test_a_wrapped_method_that_lost_an_argument_is_refused_by_name() -> None:
    def query(self: Any, key: Any, index: Any = None) -> None: ...

    with pytest.raises(MotoVersionError, match="no longer takes hash_key, index_name"):
        moto_patches.signature_of(query, "hash_key", "index_name")


@mock_aws
def test_patched_queries_answer_by_argument_name_whatever_the_call_passes() -> None:
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    make_dynamodb_atomic()
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for pk, sk, g in [("a", "1", "x"), ("a", "2", "y"), ("b", "1", "x")]:
        client.put_item(TableName="t", Item={"pk": {"S": pk}, "sk": {"S": sk}, "g": {"S": g}})
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["t"]
    common: dict[str, Any] = {
        "range_comparison": None,
        "range_objs": [],
        "limit": None,
        "exclusive_start_key": None,
        "scan_index_forward": True,
        "projection_expressions": None,
    }

    def keys(items: list[Any]) -> list[tuple[str, str]]:
        return sorted((i.attrs["pk"].value, i.attrs["sk"].value) for i in items)

    by_name, _, _ = table.query(hash_key=DynamoType({"S": "a"}), **common)
    assert keys(by_name) == [("a", "1"), ("a", "2")]
    on_index, _, _ = table.query(hash_key=DynamoType({"S": "x"}), index_name="gsi", **common)
    assert keys(on_index) == [("a", "1"), ("b", "1")]
    positional, _, _ = table.query(DynamoType({"S": "x"}), None, [], None, None, True, None, "gsi")
    assert keys(positional) == keys(on_index)
    # and through the API, as fxcrm's code queries
    answer = client.query(
        TableName="t", IndexName="gsi", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "y"}}
    )
    assert [item["sk"]["S"] for item in answer["Items"]] == ["2"]


@mock_aws(config={"lambda": {"use_docker": False}})
def test_lambda_invokes_reach_the_handler_through_the_bound_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from moto.awslambda_simple.models import LambdaSimpleBackend

    from localcloud.functions import Dispatcher

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", LambdaSimpleBackend.invoke)  # restored afterwards
    dispatcher = Dispatcher()
    dispatcher.add("echo", lambda event, _: {"seen": event})
    dispatcher.install_into_moto()
    dispatcher.install_into_moto()  # installing again still finds moto's arguments
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda")
    client.create_function(
        FunctionName="echo", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": b"PK"}
    )
    answer = client.invoke(FunctionName="echo", Payload=json.dumps({"n": 1}))
    assert json.loads(answer["Payload"].read()) == {"seen": {"n": 1}}
