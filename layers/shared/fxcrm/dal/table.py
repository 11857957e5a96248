"""A small typed wrapper over the low-level DynamoDB client for the domain table."""

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fxcrm.core.settings import get_settings
from fxcrm.dal import aws

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]
# A streamed Query's page (exports): about 0.5 MB of trades or orders, so a reader
# holds that much whatever DynamoDB's 1 MB page would be (and the emulator, which has
# no size cap, behaves the same).
STREAM_PAGE_ITEMS = 1000


def to_ddb(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_ddb(raw: dict[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def plain(value: Any) -> Any:
    """A stored value with DynamoDB's Decimals turned back into ints (or, for
    fractions, exact strings), ready for JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(v) for v in value]
    return value


def values(mapping: Item) -> dict[str, Any]:
    """Expression attribute values, serialised."""
    return {k: _serializer.serialize(v) for k, v in mapping.items()}


def status_change(table_name: str, key: Item, was: str, to: str, sets: Item | None = None) -> dict[str, Any]:
    """A transaction's Update that moves an item's `status` from `was` to `to`
    (the transaction fails if it is not `was` any more), setting `sets` with it."""
    extra = sets or {}
    assignments = "".join(f", {name} = :{name}" for name in extra)
    return {
        "Update": {
            "TableName": table_name,
            "Key": values(key),
            "UpdateExpression": f"SET #status = :to{assignments}",
            "ConditionExpression": "#status = :was",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values({":to": to, ":was": was} | {f":{k}": v for k, v in extra.items()}),
        }
    }


def cancelled_by_condition(error: ClientError) -> bool:
    """A cancelled TransactWriteItems whose own condition failed (an item was
    not as expected), not one that met a concurrent transaction."""
    reasons = error.response.get("CancellationReasons") or []
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons


def transact(table_client: Any, entries: list[dict[str, Any]]) -> None:
    """TransactWriteItems. A conflict with a concurrent transaction on a shared
    item (a counter) is retried with jitter by `fxcrm.dal.contention` on every
    client; a failed condition is raised at once."""
    table_client.transact_write_items(TransactItems=entries)


def is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class Table:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def client(self) -> Any:
        return aws.client("dynamodb")

    def get(self, pk: str, sk: str, consistent: bool = True) -> Item | None:
        response = self.client.get_item(
            TableName=self.name, Key=values({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        raw = response.get("Item")
        return from_ddb(raw) if raw else None

    def put(
        self,
        item: Item,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        expression_values: Item | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_ddb(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        self.client.put_item(**kwargs)

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        expression_values: Item | None = None,
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> Item:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": values({"pk": pk, "sk": sk}),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return from_ddb(self.client.update_item(**kwargs)["Attributes"])

    def delete(self, pk: str, sk: str, condition: str | None = None, expression_values: Item | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": values({"pk": pk, "sk": sk})}
        if condition:
            kwargs["ConditionExpression"] = condition
        if expression_values:
            kwargs["ExpressionAttributeValues"] = values(expression_values)
        self.client.delete_item(**kwargs)

    def _query_args(
        self,
        condition: str,
        expression_values: Item,
        index: str | None,
        names: dict[str, str] | None = None,
        where: str | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values(expression_values),
        }
        optional = {"IndexName": index, "ExpressionAttributeNames": names, "FilterExpression": where}
        return kwargs | {k: v for k, v in optional.items() if v}

    def query(
        self, condition: str, expression_values: Item, index: str | None = None, forward: bool = True
    ) -> list[Item]:
        """Every item of a key condition, following pages."""
        return list(self.stream(condition, expression_values, index, forward))

    def stream(
        self,
        condition: str,
        expression_values: Item,
        index: str | None = None,
        forward: bool = True,
        page_items: int | None = None,
    ) -> Iterator[Item]:
        """The items of a key condition as each Query page arrives: the next page is
        asked for only when the caller has consumed this one, so a reader that does
        not keep the items holds one page at a time (`page_items` caps a page below
        DynamoDB's 1 MB)."""
        kwargs = self._query_args(condition, expression_values, index) | {"ScanIndexForward": forward}
        if page_items:
            kwargs["Limit"] = page_items
        while True:
            page = self.client.query(**kwargs)
            for raw in page.get("Items", []):
                yield from_ddb(raw)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query_page(
        self,
        condition: str,
        expression_values: Item,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
        where: str | None = None,
    ) -> tuple[list[Item], dict[str, Any] | None]:
        """One Query call: its items and the key to continue from (None at the end)."""
        kwargs = self._query_args(condition, expression_values, index, names, where) | {"ScanIndexForward": forward}
        if limit:
            kwargs["Limit"] = limit
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self.client.query(**kwargs)
        return [from_ddb(raw) for raw in answer.get("Items", [])], answer.get("LastEvaluatedKey")

    def count(
        self,
        condition: str,
        expression_values: Item,
        index: str | None = None,
        names: dict[str, str] | None = None,
        where: str | None = None,
    ) -> int:
        """How many items a key condition (and filter) matches: Select COUNT, following pages."""
        kwargs = self._query_args(condition, expression_values, index, names, where) | {"Select": "COUNT"}
        found = 0
        while True:
            answer = self.client.query(**kwargs)
            found += int(answer.get("Count", 0))
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def batch_get(self, keys: list[tuple[str, str]], consistent: bool = False) -> list[Item]:
        """Items by key, 100 per request, retrying what DynamoDB leaves unprocessed."""
        found: list[Item] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.name: {
                    "Keys": [values({"pk": pk, "sk": sk}) for pk, sk in keys[start : start + 100]],
                    "ConsistentRead": consistent,
                }
            }
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                found.extend(from_ddb(raw) for raw in answer.get("Responses", {}).get(self.name, []))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def batch_put(self, items: list[Item]) -> None:
        """Put items 25 per request, retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(items), 25):
            request: dict[str, Any] = {
                self.name: [{"PutRequest": {"Item": to_ddb(item)}} for item in items[start : start + 25]]
            }
            while request:
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def put_new(self, item: Item) -> bool:
        """Put the item only if its key is free: False (and nothing written) if it was taken."""
        try:
            self.put(item, condition="attribute_not_exists(pk)")
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def transact_put_new(self, *items: Item, also: Sequence[dict[str, Any]] = ()) -> None:
        """Put several items at once, each only if its key is not taken yet
        (with `also`: more entries of the same transaction)."""
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_ddb(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for item in items
            ]
            + list(also)
        )
