"""Counts kept as items change, so a list's `total` costs a few reads, not a
read of the list.

A counter is a scope (what is counted: `orders#deposit`, `user#<id>#deposit`,
`approvals#waiting`) split into buckets (usually a day, `2026-12-01`, so a
window's total is the sum of its days). A scope that every request of the
broker touches is spread over `shards` items per bucket — one hot item would
cap the write rate and conflict in transactions — and a read sums the shards.

Item: `COUNT#<scope>` / `<bucket>#<shard>`, attribute `n`. The increment is a
TransactWriteItems entry, written in the same transaction as the item it counts,
so a count is never ahead of or behind its items."""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fxcrm.dal.table import Table, values


@dataclass(frozen=True)
class Counter:
    scope: str
    shards: int = 1

    @property
    def pk(self) -> str:
        return f"COUNT#{self.scope}"

    def keys(self, bucket: str) -> list[tuple[str, str]]:
        return [(self.pk, f"{bucket}#{shard}") for shard in range(self.shards)]


def change(table: Table, counter: Counter, bucket: str, by: int = 1) -> dict[str, Any]:
    """The transaction entry that adds `by` (negative to take away) to one
    shard of the bucket, chosen at random so writers spread over the shards."""
    shard = random.randrange(counter.shards) if counter.shards > 1 else 0  # noqa: S311 - spreading, not secrecy
    return {
        "Update": {
            "TableName": table.name,
            "Key": values({"pk": counter.pk, "sk": f"{bucket}#{shard}"}),
            "UpdateExpression": "ADD n :by",
            "ExpressionAttributeValues": values({":by": by}),
        }
    }


def total(table: Table, counter: Counter, buckets: Iterable[str]) -> int:
    """The sum over the buckets (one BatchGetItem per 100 shard items)."""
    keys = [key for bucket in buckets for key in counter.keys(bucket)]
    return sum(int(item.get("n", 0)) for item in table.batch_get(keys)) if keys else 0
