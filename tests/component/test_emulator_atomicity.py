"""The emulator keeps DynamoDB's write atomicity under concurrency
(`localcloud.moto_patches`); unpatched moto loses updates here."""

from concurrent.futures import ThreadPoolExecutor

from fxcrm.dal.table import Table
from localcloud.provision import Stack


def test_concurrent_counter_updates_are_never_lost(stack: Stack) -> None:
    table = Table()

    def bump(_: int) -> int:
        return int(table.update("TEST#counter", "COUNTER", "ADD hits :one", {":one": 1})["hits"])

    with ThreadPoolExecutor(16) as pool:
        seen = list(pool.map(bump, range(800)))
    assert sorted(seen) == list(range(1, 801))  # every increment saw its own value


def test_a_cancelled_transaction_leaves_every_item_as_it_was(stack: Stack) -> None:
    """The emulator snapshots only the items a transaction touches (moto copies
    whole tables); a cancelled transaction must still change nothing."""
    import pytest
    from botocore.exceptions import ClientError

    from fxcrm.dal.table import to_ddb, values

    table = Table()
    table.put({"pk": "TEST#txn", "sk": "A", "n": 1})
    table.put({"pk": "TEST#txn", "sk": "B", "n": 5})
    table.put({"pk": "TEST#txn", "sk": "C", "n": 7})
    with pytest.raises(ClientError) as error:
        table.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table.name, "Item": to_ddb({"pk": "TEST#txn", "sk": "NEW", "n": 9})}},
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": values({"pk": "TEST#txn", "sk": "A"}),
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": values({":n": 2}),
                    }
                },
                {"Delete": {"TableName": table.name, "Key": values({"pk": "TEST#txn", "sk": "B"})}},
                {
                    "ConditionCheck": {
                        "TableName": table.name,
                        "Key": values({"pk": "TEST#txn", "sk": "C"}),
                        "ConditionExpression": "n > :n",
                        "ExpressionAttributeValues": values({":n": 100}),
                    }
                },
            ]
        )
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert table.get("TEST#txn", "NEW") is None
    assert table.get("TEST#txn", "A")["n"] == 1 and table.get("TEST#txn", "B")["n"] == 5
