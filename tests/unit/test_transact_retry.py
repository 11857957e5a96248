"""A transaction that meets a concurrent one on a shared item (a list
counter) is written again after a short random wait; one whose own condition
failed is not (fxcrm.dal.table.transact)."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fxcrm.dal.table import transact


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class Client:
    def __init__(self, *failures: ClientError) -> None:
        self.failures = list(failures)
        self.calls = 0

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def test_a_conflict_is_written_again() -> None:
    client = Client(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"))
    transact(client, [{"Update": {}}])
    assert client.calls == 3


def test_a_failed_condition_is_raised_at_once() -> None:
    client = Client(cancelled("ConditionalCheckFailed", "None"))
    with pytest.raises(ClientError):
        transact(client, [{"Update": {}}])
    assert client.calls == 1


def test_conflicts_that_go_on_are_raised_in_the_end() -> None:
    client = Client(*(cancelled("TransactionConflict") for _ in range(10)))
    with pytest.raises(ClientError):
        transact(client, [{"Update": {}}], attempts=3)
    assert client.calls == 3
