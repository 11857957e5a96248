"""Count the AWS calls a piece of code makes, through botocore's events on
every fxcrm client (`fxcrm.dal.aws`), so tests can hold call budgets."""

import itertools
from collections import Counter
from typing import Any

from fxcrm.dal import aws
from localcloud.functions import invoked_by_moto

_ids = itertools.count()


def _items_read(operation: str, parsed: dict[str, Any]) -> int:
    """How many items DynamoDB read to answer: a Query's `ScannedCount` (what a
    filter discarded counts too), a GetItem's item, a BatchGetItem's responses."""
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", len(parsed.get("Items", []))))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(found) for found in parsed.get("Responses", {}).values())
    return 0


class AwsCalls:
    """with AwsCalls() as calls: ...; calls.counts == {"dynamodb.GetItem": 2, ...};
    calls.items_read == the DynamoDB items those calls read."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.items_read = 0
        self.items_read_by: Counter[str] = Counter()  # by operation, e.g. "dynamodb.Query"
        self._hooked: list[Any] = []
        self._unique = f"fxcrm-aws-calls-{next(_ids)}"

    def _record(self, model: Any, **_: Any) -> None:
        # Not the calls of a state machine's tasks, which may run meanwhile (a
        # request can start a flow): those are not the request's calls.
        if not invoked_by_moto():
            self.names.append(f"{model.service_model.service_name}.{model.name}")

    def _count_items(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "dynamodb" and not invoked_by_moto():
            read = _items_read(model.name, parsed)
            self.items_read += read
            self.items_read_by[f"dynamodb.{model.name}"] += read

    def _hook(self, client: Any) -> None:
        client.meta.events.register("before-call", self._record, unique_id=self._unique)
        client.meta.events.register("after-call", self._count_items, unique_id=f"{self._unique}-items")
        self._hooked.append(client)

    def __enter__(self) -> "AwsCalls":
        self._undo = aws.on_client(self._hook)
        return self

    def __exit__(self, *_: Any) -> None:
        self._undo()
        for client in self._hooked:
            client.meta.events.unregister("before-call", unique_id=self._unique)
            client.meta.events.unregister("after-call", unique_id=f"{self._unique}-items")

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.names)

    @property
    def total(self) -> int:
        return len(self.names)
