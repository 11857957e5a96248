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


def test_queries_read_one_partition_in_order_and_page_through(stack: Stack) -> None:
    """The emulator answers a Query from the queried partition only (moto sorts
    the whole table); the answer must be moto's: order, pages and index."""
    table = Table()
    table.batch_put(
        [
            {
                "pk": f"TEST#q{p}",
                "sk": f"{n:04d}",
                "gsi1pk": f"TESTQ#{n % 3}",
                "gsi1sk": f"{p}#{n:04d}",
                "pad": "x" * 3000,
            }
            for p in range(3)
            for n in range(400)
        ]
    )
    rows = table.query("pk = :pk", {":pk": "TEST#q1"})  # 400 items of 3 KB: several 1 MB pages
    assert [r["sk"] for r in rows] == [f"{n:04d}" for n in range(400)]
    newest = table.query(
        "pk = :pk AND sk BETWEEN :a AND :b", {":pk": "TEST#q2", ":a": "0010", ":b": "0019"}, forward=False
    )
    assert [r["sk"] for r in newest] == [f"{n:04d}" for n in range(19, 9, -1)]
    indexed = table.query("gsi1pk = :pk", {":pk": "TESTQ#1"}, index="gsi1")
    assert [r["gsi1sk"] for r in indexed] == sorted(f"{p}#{n:04d}" for p in range(3) for n in range(400) if n % 3 == 1)
